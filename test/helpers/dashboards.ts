/**
 * Reading the shipped Grafana dashboards (`dashboards/*.json`) and Prometheus alert rules
 * (`dashboards/alerts.yaml`), and a small PromQL analyser, so tests can check every expression
 * against the metric catalogue and evaluate it against a real Prometheus.
 *
 * The rule file is YAML: it is converted to JSON by Debian's python3-yaml (`/usr/bin/python3`,
 * installed with python3-celery), since no YAML parser is a dependency of the project.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { METRICS, exposedNames, type MetricSpec } from '../../server/metrics/catalogue';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DASHBOARDS_DIR = path.join(ROOT, 'dashboards');
export const ALERTS_FILE = path.join(DASHBOARDS_DIR, 'alerts.yaml');
export const ALERTS_TEST_FILE = path.join(DASHBOARDS_DIR, 'alerts.test.yaml');
export const PYTHON = '/usr/bin/python3';

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

export interface GrafanaTarget {
  expr?: string;
  refId?: string;
  datasource?: unknown;
  legendFormat?: string;
  [key: string]: unknown;
}

export interface GrafanaPanel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: unknown;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
  [key: string]: unknown;
}

export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string; [key: string]: unknown };
  definition?: string;
  datasource?: unknown;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  [key: string]: unknown;
}

export interface GrafanaDashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
  [key: string]: unknown;
}

/** The dashboard files, as paths relative to the repository root (`dashboards/x.json`). */
export function dashboardFiles(): string[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => path.join('dashboards', name));
}

export function loadDashboard(file: string): GrafanaDashboard {
  return JSON.parse(readFileSync(path.resolve(ROOT, file), 'utf8')) as GrafanaDashboard;
}

/** Every panel, rows included, with the panels of collapsed rows flattened in. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const out: GrafanaPanel[] = [];
  const visit = (panels: GrafanaPanel[] | undefined): void => {
    for (const panel of panels ?? []) {
      out.push(panel);
      visit(panel.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** The query text of a template variable (Grafana stores it as a string or as `{query}`). */
export function variableQuery(variable: GrafanaVariable): string {
  if (typeof variable.query === 'string') return variable.query;
  if (variable.query && typeof variable.query.query === 'string') return variable.query.query;
  return variable.definition ?? '';
}

const NO_FINISH = 'no task finished (succeeded or failed) in the last $__rate_interval';
const REDIS_ONLY = 'RabbitMQ broker (Redis only)';

/**
 * Panel queries that legitimately return no series until something happens, keyed
 * `file#panel title#refId`: breakdowns by a label of events that did not occur (no failure, no
 * retry, no control call...), ratios with nothing finished, Redis-only metrics. The other queries
 * return data on any cluster with traffic (or 0 through `or vector(0)`).
 */
export const EMPTY_WHEN: Readonly<Record<string, string>> = {
  'dashboards/celery-overview.json#Success ratio (range)#A': 'no task finished in the dashboard time range',
  'dashboards/celery-overview.json#Failure ratio (range)#A': 'no task finished in the dashboard time range',
  'dashboards/celery-overview.json#Oldest waiting message#A': `${REDIS_ONLY}, or no task-sent event seen for the queued messages`,
  'dashboards/celery-overview.json#Success and failure ratio#A': NO_FINISH,
  'dashboards/celery-overview.json#Success and failure ratio#B': NO_FINISH,
  'dashboards/celery-overview.json#Failure ratio by task#A': NO_FINISH,
  'dashboards/celery-overview.json#Failures by exception#A': 'no task failed',
  'dashboards/celery-overview.json#Retries and revocations by task#A': 'no task retried',
  'dashboards/celery-overview.json#Retries and revocations by task#B': 'no task revoked',
  'dashboards/celery-overview.json#Average runtime by task#A': 'no task succeeded in the last $__rate_interval',
  'dashboards/celery-overview.json#Oldest waiting message by queue#A': `${REDIS_ONLY}, or no task-sent event seen for the queued messages`,
  'dashboards/celery-overview.json#Queue length by priority (Redis)#A': REDIS_ONLY,
  'dashboards/celery-overview.json#Top failing tasks#A': 'no task failed in the dashboard time range',
  'dashboards/celery-overview.json#Top exceptions#A': 'no task failed in the dashboard time range',
  'dashboards/tutor-parity.json#Queue Length by task name#A': 'no task is prefetched (received, not started) at a worker right now',
  'dashboards/tutor-parity.json#Average Task Runtime at Worker#A': 'no task succeeded in the last $__rate_interval',
  'dashboards/tutor-parity.json#Number of Tasks Prefetched at Worker#A': 'no task is prefetched (received, not started) at a worker right now',
  'dashboards/tutor-parity.json#Tasks Success Ratio#A': NO_FINISH,
  'dashboards/tutor-parity.json#Tasks Failure Ratio#A': NO_FINISH,
  'dashboards/celeriac-self.json#Control calls by action and outcome#A': 'no control call made through Celeriac',
  'dashboards/celeriac-self.json#Control calls (range)#A': 'no control call made through Celeriac in the dashboard time range',
  'dashboards/celeriac-self.json#Series dropped by the cardinality cap#A': 'no label set dropped by --metrics-max-series',
};

export interface DashboardExpression {
  file: string;
  panel: string;
  expr: string;
  refId: string;
  /** Set when the query legitimately returns no series until that condition ends (see EMPTY_WHEN). */
  emptyWhen?: string;
}

/** Every panel target's PromQL, as written (Grafana variables not substituted). */
export function dashboardExpressions(): DashboardExpression[] {
  const out: DashboardExpression[] = [];
  for (const file of dashboardFiles()) {
    for (const panel of allPanels(loadDashboard(file))) {
      const title = panel.title ?? `#${panel.id ?? '?'}`;
      for (const target of panel.targets ?? []) {
        if (typeof target.expr !== 'string' || target.expr.trim() === '') continue;
        const refId = target.refId ?? '';
        const emptyWhen = EMPTY_WHEN[`${file}#${title}#${refId}`];
        out.push({ file, panel: title, expr: target.expr, refId, ...(emptyWhen ? { emptyWhen } : {}) });
      }
    }
  }
  return out;
}

/**
 * Every query-type template variable. `promql` is an equivalent instant query Prometheus can run
 * (`label_values(m{…}, l)` → `group by (l) (m{…})`), or null for forms without one
 * (`label_values(l)` over all series).
 */
export function variableQueries(): { file: string; variable: string; query: string; promql: string | null }[] {
  const out: { file: string; variable: string; query: string; promql: string | null }[] = [];
  for (const file of dashboardFiles()) {
    for (const variable of loadDashboard(file).templating.list) {
      if (variable.type !== 'query') continue;
      const query = variableQuery(variable);
      out.push({ file, variable: variable.name, query, promql: labelValuesToPromQL(query) });
    }
  }
  return out;
}

export function labelValuesToPromQL(query: string): string | null {
  const match = /^\s*label_values\(\s*(.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$/s.exec(query);
  if (match) return `group by (${match[2]}) (${match[1]})`;
  const queryResult = /^\s*query_result\((.+)\)\s*$/s.exec(query);
  if (queryResult) return queryResult[1] as string;
  return null;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface RuleFile {
  groups: { name: string; interval?: string; rules: (AlertRule | { record: string; expr: string })[] }[];
}

/** Every document of a YAML file as JSON, through python3-yaml. Throws clearly when it is missing. */
export function readYamlDocuments(file: string): unknown[] {
  const code = 'import yaml, json, sys; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1], encoding="utf-8")))))';
  // Debian's python3-yaml: keep a developer's PYTHONPATH/PYTHONHOME from pointing elsewhere.
  const env: NodeJS.ProcessEnv = { ...process.env, LANG: 'C.UTF-8' };
  delete env['PYTHONPATH'];
  delete env['PYTHONHOME'];
  const result = spawnSync(PYTHON, ['-c', code, path.resolve(ROOT, file)], { encoding: 'utf8', env });
  if (result.error) throw new Error(`cannot run ${PYTHON} to read ${file}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${PYTHON} could not read ${file} (is python3-yaml installed? apt-get install python3-yaml): ${result.stderr}`);
  return (JSON.parse(result.stdout) as unknown[]).filter((doc) => doc !== null);
}

/** A single-document YAML file as JSON. */
export function readYaml(file: string): unknown {
  const docs = readYamlDocuments(file);
  if (docs.length !== 1) throw new Error(`${file}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}

export function loadAlertRules(file: string = ALERTS_FILE): RuleFile {
  return readYaml(file) as RuleFile;
}

/** Every alerting rule of `dashboards/alerts.yaml`; `for` is '0s' when the rule has none. */
export function alertExpressions(): { alert: string; expr: string; for: string }[] {
  const out: { alert: string; expr: string; for: string }[] = [];
  for (const group of loadAlertRules().groups) {
    for (const rule of group.rules) {
      if ('alert' in rule) out.push({ alert: rule.alert, expr: rule.expr.trim(), for: rule.for ?? '0s' });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Grafana variables
// ---------------------------------------------------------------------------------------------

const BUILTIN_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '10m',
  __interval_ms: '15000',
  __range_s: '600',
  __range_ms: '600000',
};

/**
 * Grafana's variables replaced by values Prometheus accepts: `$__rate_interval` → 1m,
 * `$__interval` → 15s, `$__range` → 10m, and every `$var`, `${var}` or `${var:format}` by
 * `vars[var]` or `.*` (the All value of every multi-select variable of the dashboards).
 */
export function substituteGrafanaVariables(expr: string, vars: Record<string, string> = {}): string {
  const value = (name: string): string => vars[name] ?? BUILTIN_VARIABLES[name] ?? '.*';
  return expr
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}/g, (_all, name: string) => value(name))
    .replace(/\[\[([A-Za-z_][A-Za-z0-9_]*)(?::[^\]]*)?\]\]/g, (_all, name: string) => value(name))
    .replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (_all, name: string) => value(name));
}

// ---------------------------------------------------------------------------------------------
// PromQL analysis (enough of the grammar to find metrics, matchers, groupings and calls)
// ---------------------------------------------------------------------------------------------

export const PROMQL_AGGREGATORS: ReadonlySet<string> = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);

export const PROMQL_FUNCTIONS: ReadonlySet<string> = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'cos',
  'cosh',
  'count_over_time',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'deg',
  'delta',
  'deriv',
  'double_exponential_smoothing',
  'exp',
  'floor',
  'histogram_avg',
  'histogram_count',
  'histogram_fraction',
  'histogram_quantile',
  'histogram_stddev',
  'histogram_stdvar',
  'histogram_sum',
  'holt_winters',
  'hour',
  'idelta',
  'increase',
  'info',
  'irate',
  'label_join',
  'label_replace',
  'last_over_time',
  'ln',
  'log10',
  'log2',
  'mad_over_time',
  'max_over_time',
  'min_over_time',
  'minute',
  'month',
  'pi',
  'predict_linear',
  'present_over_time',
  'quantile_over_time',
  'rad',
  'rate',
  'resets',
  'round',
  'scalar',
  'sgn',
  'sin',
  'sinh',
  'sort',
  'sort_by_label',
  'sort_by_label_desc',
  'sort_desc',
  'sqrt',
  'stddev_over_time',
  'stdvar_over_time',
  'sum_over_time',
  'tan',
  'tanh',
  'time',
  'timestamp',
  'vector',
  'year',
  // `@ start()` / `@ end()` modifiers
  'start',
  'end',
]);

/** Grafana's template-variable functions (not PromQL; only in variable queries). */
export const GRAFANA_VARIABLE_FUNCTIONS: ReadonlySet<string> = new Set(['label_values', 'label_names', 'metrics', 'query_result']);

const GROUPING_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const OTHER_KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);

type Token =
  | { kind: 'ident'; value: string; pos: number }
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: string; pos: number }
  | { kind: 'op'; value: string; pos: number };

type Node = { kind: 'token'; token: Token } | { kind: 'group'; open: '(' | '{' | '['; children: Node[]; pos: number };

export class PromQLSyntaxError extends Error {}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const rest = expr.slice(i);
    const c = expr[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#') {
      const end = expr.indexOf('\n', i);
      i = end === -1 ? expr.length : end;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      let value = '';
      while (j < expr.length && expr[j] !== c) {
        if (expr[j] === '\\' && c !== '`') {
          value += expr[j + 1] ?? '';
          j += 2;
        } else {
          value += expr[j];
          j++;
        }
      }
      if (j >= expr.length) throw new PromQLSyntaxError(`unterminated string at ${i} in: ${expr}`);
      tokens.push({ kind: 'string', value, pos: i });
      i = j + 1;
      continue;
    }
    const duration = /^(?:[0-9]+(?:ms|s|m|h|d|w|y))+(?![A-Za-z0-9_])/.exec(rest);
    const number = /^(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)/.exec(rest);
    const numeric = duration ?? number;
    if (numeric) {
      tokens.push({ kind: 'number', value: numeric[0], pos: i });
      i += numeric[0].length;
      continue;
    }
    const ident = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', value: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    const op = /^(?:=~|!~|!=|==|<=|>=|[=<>+\-*/%^@(){}[\],])/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', value: op[0], pos: i });
      i += op[0].length;
      continue;
    }
    throw new PromQLSyntaxError(`unexpected character ${JSON.stringify(c)} at ${i} in: ${expr}`);
  }
  return tokens;
}

function nest(tokens: Token[], expr: string): Node[] {
  const root: Node[] = [];
  const stack: { open: '(' | '{' | '['; children: Node[]; pos: number }[] = [];
  const close: Record<string, '(' | '{' | '['> = { ')': '(', '}': '{', ']': '[' };
  let current = root;
  for (const token of tokens) {
    if (token.kind === 'op' && (token.value === '(' || token.value === '{' || token.value === '[')) {
      const group = { open: token.value as '(' | '{' | '[', children: [] as Node[], pos: token.pos };
      stack.push(group);
      current.push({ kind: 'group', ...group });
      current = group.children;
    } else if (token.kind === 'op' && close[token.value]) {
      const group = stack.pop();
      if (!group || group.open !== close[token.value]) throw new PromQLSyntaxError(`unbalanced ${token.value} at ${token.pos} in: ${expr}`);
      current = stack.length ? (stack[stack.length - 1] as { children: Node[] }).children : root;
    } else {
      current.push({ kind: 'token', token });
    }
  }
  if (stack.length) throw new PromQLSyntaxError(`unclosed ${stack[stack.length - 1]?.open} in: ${expr}`);
  return root;
}

export interface MetricUse {
  name: string;
  /** Labels used in the selector's matchers. */
  matchers: { label: string; op: string; value: string }[];
  /** Names of the enclosing function/aggregation calls, outermost first. */
  enclosing: string[];
  /** The range in `[...]` directly after the selector, if any (e.g. `5m`). */
  range: string | null;
}

export interface Grouping {
  keyword: string;
  labels: string[];
  /** Metrics the labels must come from: the aggregated expression (by/without) or both operands (on/ignoring/group_*). */
  scope: string[];
}

export interface PromQLAnalysis {
  metrics: MetricUse[];
  groupings: Grouping[];
  /** Every function or aggregation called, with the metrics under it. */
  calls: { fn: string; metrics: string[] }[];
  /** Labels read by Grafana's label_values(metric, label). */
  labelValues: { metric: string | null; label: string }[];
}

function splitArgs(nodes: Node[]): Node[][] {
  const args: Node[][] = [[]];
  for (const node of nodes) {
    if (node.kind === 'token' && node.token.kind === 'op' && node.token.value === ',') args.push([]);
    else (args[args.length - 1] as Node[]).push(node);
  }
  return args;
}

function identsIn(nodes: Node[]): string[] {
  return nodes.flatMap((node) => (node.kind === 'token' && (node.token.kind === 'ident' || node.token.kind === 'string') ? [node.token.value] : []));
}

function parseMatchers(nodes: Node[], expr: string): { label: string; op: string; value: string }[] {
  return splitArgs(nodes)
    .filter((arg) => arg.length > 0)
    .map((arg) => {
      const [label, op, value] = arg.map((node) => (node.kind === 'token' ? node.token : null));
      if (!label || !op || !value || arg.length !== 3 || label.kind !== 'ident' || op.kind !== 'op' || value.kind !== 'string') {
        throw new PromQLSyntaxError(`bad label matcher in: ${expr}`);
      }
      return { label: label.value, op: op.value, value: value.value };
    });
}

/**
 * Finds the metrics, label matchers, groupings and calls of one PromQL expression (Grafana
 * variables should be substituted first; `label_values(...)` of variable queries is understood).
 * Throws PromQLSyntaxError on what it cannot read, including unknown function names.
 */
export function analyzePromQL(expr: string): PromQLAnalysis {
  const analysis: PromQLAnalysis = { metrics: [], groupings: [], calls: [], labelValues: [] };
  const metricsUnder = (nodes: Node[]): string[] => {
    const sub = walk(nodes, [], { metrics: [], groupings: [], calls: [], labelValues: [] }, true);
    return sub.metrics.map((m) => m.name);
  };

  function walk(nodes: Node[], enclosing: string[], out: PromQLAnalysis, metricsOnly = false): PromQLAnalysis {
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i] as Node;
      const next = nodes[i + 1];
      if (node.kind === 'group') {
        if (node.open === '(') walk(node.children, enclosing, out, metricsOnly);
        else if (node.open === '{') {
          const matchers = parseMatchers(node.children, expr);
          const name = matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
          if (!name) throw new PromQLSyntaxError(`selector without a metric name in: ${expr}`);
          out.metrics.push({ name, matchers, enclosing, range: null });
        }
        // '[' groups are ranges and subquery steps: nothing to find inside.
        continue;
      }
      const token = node.token;
      if (token.kind !== 'ident') continue;
      const word = token.value;
      const lower = word.toLowerCase();
      if (GROUPING_KEYWORDS.has(lower)) {
        if (next?.kind === 'group' && next.open === '(' && metricsOnly) {
          i++;
        } else if (next?.kind === 'group' && next.open === '(') {
          const labels = identsIn(next.children);
          let scope: string[];
          if (lower === 'by' || lower === 'without') {
            // After fixAggregatorCalls, always `agg (expr) by (labels)`.
            const before = nodes[i - 1];
            const aggregator = nodes[i - 2];
            if (before?.kind === 'group' && before.open === '(' && aggregator?.kind === 'token' && PROMQL_AGGREGATORS.has(aggregator.token.value)) {
              scope = metricsUnder(before.children);
            } else {
              throw new PromQLSyntaxError(`cannot tell what "${word}" groups in: ${expr}`);
            }
          } else {
            scope = metricsUnder(nodes);
          }
          out.groupings.push({ keyword: lower, labels, scope });
          i++;
        }
        continue;
      }
      if (OTHER_KEYWORDS.has(lower)) continue;
      if (next?.kind === 'group' && next.open === '(') {
        if (GRAFANA_VARIABLE_FUNCTIONS.has(word)) {
          const args = splitArgs(next.children);
          if (word === 'label_values') {
            const labelArg = args[args.length - 1] ?? [];
            const label = labelArg.length === 1 && labelArg[0]?.kind === 'token' ? labelArg[0].token.value : null;
            if (!label) throw new PromQLSyntaxError(`bad label_values() in: ${expr}`);
            let metric: string | null = null;
            if (args.length === 2) {
              const sub = walk(args[0] as Node[], [...enclosing, word], out, metricsOnly);
              metric = sub.metrics[sub.metrics.length - 1]?.name ?? null;
            }
            out.labelValues.push({ metric, label });
          } else {
            walk(next.children, [...enclosing, word], out, metricsOnly);
          }
        } else if (PROMQL_FUNCTIONS.has(word) || PROMQL_AGGREGATORS.has(word)) {
          const before = out.metrics.length;
          walk(next.children, [...enclosing, word], out, metricsOnly);
          out.calls.push({ fn: word, metrics: out.metrics.slice(before).map((m) => m.name) });
        } else {
          throw new PromQLSyntaxError(`unknown function ${word}() in: ${expr}`);
        }
        i++;
        continue;
      }
      // A metric name, with or without a selector, maybe followed by a range.
      const use: MetricUse = { name: word, matchers: [], enclosing, range: null };
      if (next?.kind === 'group' && next.open === '{') {
        use.matchers = parseMatchers(next.children, expr);
        i++;
      }
      const after = nodes[i + 1];
      if (after?.kind === 'group' && after.open === '[') {
        use.range = after.children.map((n) => (n.kind === 'token' ? n.token.value : '?')).join('');
        i++;
      }
      out.metrics.push(use);
    }
    return out;
  }

  // `sum by (x) (expr)` is rewritten to `sum (expr) by (x)` first, so a call is always `name (...)`.
  const nodes = nest(tokenize(expr), expr);
  fixAggregatorCalls(nodes);
  walk(nodes, [], analysis);
  return analysis;
}

/** Rewrites `agg by (l) (e)` into `agg (e) by (l)` so the call is always `ident (group)`. */
function fixAggregatorCalls(nodes: Node[]): void {
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i] as Node;
    if (node.kind === 'group') {
      fixAggregatorCalls(node.children);
      continue;
    }
    const kw = nodes[i + 1];
    const labels = nodes[i + 2];
    const body = nodes[i + 3];
    if (
      node.token.kind === 'ident' &&
      PROMQL_AGGREGATORS.has(node.token.value) &&
      kw?.kind === 'token' &&
      kw.token.kind === 'ident' &&
      (kw.token.value === 'by' || kw.token.value === 'without') &&
      labels?.kind === 'group' &&
      labels.open === '(' &&
      body?.kind === 'group' &&
      body.open === '('
    ) {
      nodes.splice(i + 1, 3, body, kw, labels);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checking expressions against the metric catalogue
// ---------------------------------------------------------------------------------------------

/** Labels Prometheus itself attaches (scrape target labels; namespace from Kubernetes discovery). */
export const PROMETHEUS_LABELS: readonly string[] = ['job', 'instance', 'namespace'];

const COUNTER_RANGE_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);
/** Where a counter may appear directly: a rate, or counting series. */
const COUNTER_CONTEXTS = new Set([...COUNTER_RANGE_FUNCTIONS, 'count', 'group', 'label_values', 'absent', 'absent_over_time', 'present_over_time', 'count_over_time']);

/** The catalogue entry behind an exposed name (histograms: `_bucket`, `_sum`, `_count`). */
export function specOf(exposed: string): MetricSpec | undefined {
  const direct = METRICS.find((m) => m.name === exposed && m.type !== 'histogram');
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!exposed.endsWith(suffix)) continue;
    const base = METRICS.find((m) => m.type === 'histogram' && m.name === exposed.slice(0, -suffix.length));
    if (base) return base;
  }
  return undefined;
}

/** Labels a series of this exposed name can carry: its own, Prometheus', and `le` on buckets. */
export function labelsOf(exposed: string): Set<string> | null {
  const spec = specOf(exposed);
  if (!spec) return null;
  return new Set([...spec.labels, ...PROMETHEUS_LABELS, ...(exposed.endsWith('_bucket') && spec.type === 'histogram' ? ['le'] : [])]);
}

/**
 * What is wrong with an expression (Grafana variables already substituted) with respect to the
 * catalogue: unknown metrics, labels a metric does not have (matchers, `by`/`without`,
 * `on`/`ignoring`/`group_*`, `label_values`), counters not under rate()/increase() (so never in
 * avg_over_time()), rate() of gauges, irate() under histogram_quantile(). Empty when fine.
 */
export function promqlProblems(expr: string): string[] {
  let analysis: PromQLAnalysis;
  try {
    analysis = analyzePromQL(expr);
  } catch (error) {
    return [(error as Error).message];
  }
  const problems: string[] = [];
  const names = exposedNames();
  for (const use of analysis.metrics) {
    if (!names.has(use.name)) {
      problems.push(`unknown metric ${use.name}`);
      continue;
    }
    const labels = labelsOf(use.name) as Set<string>;
    for (const matcher of use.matchers) {
      if (!labels.has(matcher.label)) problems.push(`${use.name} has no label ${matcher.label}`);
    }
    const spec = specOf(use.name) as MetricSpec;
    const innermost = use.enclosing[use.enclosing.length - 1];
    if (spec.type === 'counter' || spec.type === 'histogram') {
      if (use.enclosing.includes('avg_over_time')) problems.push(`counter ${use.name} inside avg_over_time()`);
      if (innermost === undefined || !COUNTER_CONTEXTS.has(innermost)) problems.push(`counter ${use.name} used in ${innermost ?? 'no function'}, not in rate()/increase()`);
    } else if (innermost !== undefined && COUNTER_RANGE_FUNCTIONS.has(innermost)) {
      problems.push(`${innermost}() of gauge ${use.name}`);
    }
    if (use.enclosing.includes('histogram_quantile') && use.enclosing.includes('irate')) problems.push(`irate() under histogram_quantile() for ${use.name}`);
  }
  for (const grouping of analysis.groupings) {
    for (const label of grouping.labels) {
      if (PROMETHEUS_LABELS.includes(label)) continue;
      const lacking = grouping.scope.filter((name) => !labelsOf(name)?.has(label));
      if (grouping.keyword === 'by' || grouping.keyword === 'without') {
        if (lacking.length) problems.push(`${grouping.keyword} (${label}): not a label of ${[...new Set(lacking)].join(', ')}`);
      } else if (lacking.length === grouping.scope.length) {
        problems.push(`${grouping.keyword} (${label}): a label of none of ${[...new Set(grouping.scope)].join(', ')}`);
      }
    }
  }
  for (const { metric, label } of analysis.labelValues) {
    if (metric === null) problems.push(`label_values(${label}) without a metric`);
    else if (!labelsOf(metric)?.has(label)) problems.push(`label_values: ${metric} has no label ${label}`);
  }
  return problems;
}
