/**
 * The shipped Grafana dashboards, Prometheus alert rules and examples under dashboards/: every
 * PromQL expression uses only metrics and labels of the catalogue (server/metrics/catalogue.ts),
 * counters only through rate()/increase(), no hard-coded data source; the rules pass promtool's
 * checks and unit tests.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../server/config/config';
import { AccessPolicy } from '../../server/http/access';
import { PROMTOOL, PROMTOOL_BIN, requireTool, skipUnless } from '../helpers/tools';
import { exposedNames } from '../../server/metrics/catalogue';
import {
  ALERTS_FILE,
  ALERTS_TEST_FILE,
  DASHBOARDS_DIR,
  EMPTY_WHEN,
  ROOT,
  allPanels,
  alertExpressions,
  analyzePromQL,
  dashboardExpressions,
  dashboardFiles,
  loadAlertRules,
  loadDashboard,
  promqlProblems,
  readYaml,
  readYamlDocuments,
  substituteGrafanaVariables,
  variableQueries,
  variableQuery,
  type AlertRule,
  type GrafanaDashboard,
} from '../helpers/dashboards';

const DS = { type: 'prometheus', uid: '${datasource}' };
const PANEL_TYPES = new Set(['row', 'timeseries', 'stat', 'table', 'piechart', 'bargauge']);

const EXPECTED_DASHBOARDS: Record<string, { uid: string; title: string }> = {
  'dashboards/celery-overview.json': { uid: 'celeriac-celery-overview', title: 'Celery / Overview' },
  'dashboards/tutor-parity.json': { uid: 'celeriac-tutor-parity', title: 'Celery / Open edX (Tutor) parity' },
  'dashboards/celeriac-self.json': { uid: 'celeriac-self', title: 'Celeriac / Self-monitoring' },
};

/** The panels of tutor-contrib-celery's dashboard, as its README names them. */
const TUTOR_TITLES = [
  'Total Queue Length',
  'Queue Length by task name',
  'Celery Worker Status',
  'Number of Tasks Currently Executing at Worker',
  'Average Task Runtime at Worker',
  'Task Prefetch Time at Worker',
  'Number of Tasks Prefetched at Worker',
  'Tasks Success Ratio',
  'Tasks Failure Ratio',
];

function runPromtool(args: string[]): { status: number | null; output: string } {
  requireTool(PROMTOOL);
  const result = spawnSync(PROMTOOL_BIN, args, { encoding: 'utf8', cwd: ROOT });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

/** Every object in a JSON tree, with its path. */
function* objects(value: unknown, where = '$'): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* objects(item, `${where}[${i}]`);
  } else if (value !== null && typeof value === 'object') {
    yield [where, value as Record<string, unknown>];
    for (const [key, item] of Object.entries(value)) yield* objects(item, `${where}.${key}`);
  }
}

const dashboards: [string, GrafanaDashboard][] = dashboardFiles().map((file) => [file, loadDashboard(file)]);

describe('dashboard files', () => {
  it('are the three expected dashboards, with stable uids and titles', () => {
    assert.deepEqual(dashboards.map(([file]) => file).sort(), Object.keys(EXPECTED_DASHBOARDS).sort());
    for (const [file, dashboard] of dashboards) {
      assert.equal(dashboard.uid, EXPECTED_DASHBOARDS[file]?.uid, file);
      assert.equal(dashboard.title, EXPECTED_DASHBOARDS[file]?.title, file);
      assert.ok(dashboard.schemaVersion >= 39, `${file}: schemaVersion ${dashboard.schemaVersion}`);
      assert.ok(!('__inputs' in dashboard), `${file}: export-for-sharing __inputs`);
    }
  });

  for (const [file, dashboard] of dashboards) {
    describe(file, () => {
      const panels = allPanels(dashboard);

      it('uses current panel types only, with unique ids and a description on every panel', () => {
        const ids = new Set<number>();
        for (const panel of panels) {
          assert.ok(PANEL_TYPES.has(panel.type), `${file}: panel "${panel.title}" has type ${panel.type}`);
          assert.equal(typeof panel.title, 'string');
          assert.ok((panel.title ?? '').trim() !== '', `${file}: panel #${panel.id} without a title`);
          assert.equal(typeof panel.description, 'string', `${file}: panel "${panel.title}" without a description`);
          assert.ok((panel.description ?? '').trim().length > 10, `${file}: panel "${panel.title}" has an empty description`);
          assert.equal(typeof panel.id, 'number');
          assert.ok(!ids.has(panel.id as number), `${file}: duplicate panel id ${panel.id}`);
          ids.add(panel.id as number);
          if (panel.type !== 'row') assert.ok((panel.targets ?? []).length > 0, `${file}: panel "${panel.title}" has no query`);
        }
      });

      it('never hard-codes a data source: every panel, target and query variable uses ${datasource}', () => {
        for (const [where, object] of objects(dashboard)) {
          if ('datasource' in object) assert.deepEqual(object.datasource, DS, `${file} ${where}.datasource`);
        }
        for (const panel of panels) {
          if (panel.type === 'row') continue;
          assert.deepEqual(panel.datasource, DS, `${file}: panel "${panel.title}"`);
          for (const target of panel.targets ?? []) assert.deepEqual(target.datasource, DS, `${file}: panel "${panel.title}" target ${target.refId}`);
        }
        const text = JSON.stringify(dashboard);
        assert.doesNotMatch(text, /\$\{?DS_/, `${file}: refers to an import-time DS_ input`);
        const datasource = dashboard.templating.list.find((v) => v.name === 'datasource');
        assert.equal(datasource?.type, 'datasource', `${file}: no datasource variable`);
        assert.equal(datasource?.query, 'prometheus');
        for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) assert.deepEqual(variable.datasource, DS, `${file}: variable ${variable.name}`);
      });

      it('has multi-select worker, task and queue variables with All = .*', () => {
        const byName = new Map(dashboard.templating.list.map((v) => [v.name, v]));
        const shapes: Record<string, RegExp> = {
          worker: /^label_values\((celery_worker_up(\{[^}]*\})?, hostname|flower_worker_online(\{[^}]*\})?, worker)\)$/,
          task: /^label_values\(celery_task_received_total(\{[^}]*\})?, name\)$/,
          queue: /^label_values\(celery_queue_length(\{[^}]*\})?, queue_name\)$/,
        };
        for (const [name, shape] of Object.entries(shapes)) {
          const variable = byName.get(name);
          assert.ok(variable, `${file}: no ${name} variable`);
          assert.equal(variable.type, 'query');
          assert.match(variableQuery(variable), shape, `${file}: variable ${name}`);
          assert.equal(variable.multi, true, `${file}: ${name} multi`);
          assert.equal(variable.includeAll, true, `${file}: ${name} includeAll`);
          assert.equal(variable.allValue, '.*', `${file}: ${name} allValue`);
        }
      });

      it('uses $__rate_interval or $__range for every range, and no irate()', () => {
        for (const panel of panels) {
          for (const target of panel.targets ?? []) {
            const expr = target.expr ?? '';
            for (const [, range] of expr.matchAll(/\[([^\]]*)\]/g)) {
              assert.ok(range === '$__rate_interval' || range === '$__range', `${file}: "${panel.title}" uses [${range}]: ${expr}`);
            }
            assert.doesNotMatch(expr, /\birate\s*\(/, `${file}: "${panel.title}" uses irate()`);
            for (const [, fn, range] of expr.matchAll(/\b(rate|irate)\s*\([^()]*\[([^\]]*)\]/g)) assert.equal(range, '$__rate_interval', `${file}: ${fn}() over [${range}]`);
          }
        }
      });
    });
  }
});

describe('PromQL of dashboards and alerts against the metric catalogue', () => {
  const exposed = exposedNames();

  it('finds every expression', () => {
    const expressions = dashboardExpressions();
    assert.ok(expressions.length >= 60, `only ${expressions.length} dashboard expressions`);
    for (const file of dashboardFiles())
      assert.ok(
        expressions.some((e) => e.file === file),
        `${file}: no expressions`,
      );
    assert.equal(variableQueries().filter((v) => v.variable === 'task').length, 3);
    assert.ok(alertExpressions().length >= 8);
  });

  it('EMPTY_WHEN names existing panel queries only', () => {
    const keys = new Set(dashboardExpressions().map((e) => `${e.file}#${e.panel}#${e.refId}`));
    for (const key of Object.keys(EMPTY_WHEN)) assert.ok(keys.has(key), `EMPTY_WHEN: no query ${key}`);
    assert.equal(dashboardExpressions().filter((e) => e.emptyWhen).length, Object.keys(EMPTY_WHEN).length);
  });

  it('dashboard panels: known metrics and labels, counters only through rate()/increase()', () => {
    const problems: string[] = [];
    for (const { file, panel, expr } of dashboardExpressions()) {
      const substituted = substituteGrafanaVariables(expr);
      for (const problem of promqlProblems(substituted)) problems.push(`${file} "${panel}": ${problem}\n    ${expr}`);
      if (analyzePromQL(substituted).metrics.length === 0) problems.push(`${file} "${panel}": no metric in ${expr}`);
    }
    assert.deepEqual(problems, []);
  });

  it('template variables: label_values() of a catalogue metric and one of its labels', () => {
    const problems: string[] = [];
    for (const { file, variable, query } of variableQueries()) {
      const analysis = analyzePromQL(substituteGrafanaVariables(query));
      if (analysis.labelValues.length !== 1) problems.push(`${file} $${variable}: not a label_values(metric, label) query: ${query}`);
      for (const problem of promqlProblems(substituteGrafanaVariables(query))) problems.push(`${file} $${variable}: ${problem}`);
    }
    assert.deepEqual(problems, []);
  });

  it('alert rules: known metrics and labels, counters only through rate()/increase()', () => {
    const problems: string[] = [];
    for (const { alert, expr } of alertExpressions()) {
      for (const problem of promqlProblems(expr)) problems.push(`${alert}: ${problem}`);
      const metrics = analyzePromQL(expr).metrics;
      if (metrics.length === 0) problems.push(`${alert}: no metric`);
      for (const metric of metrics) if (!exposed.has(metric.name)) problems.push(`${alert}: ${metric.name}`);
    }
    assert.deepEqual(problems, []);
  });

  it('no counter is wrapped in avg_over_time(), anywhere', () => {
    const all = [...dashboardExpressions().map((e) => substituteGrafanaVariables(e.expr)), ...alertExpressions().map((a) => a.expr)];
    for (const expr of all) {
      for (const call of analyzePromQL(expr).calls.filter((c) => c.fn === 'avg_over_time')) {
        for (const metric of call.metrics) assert.ok(!/_total$|_bucket$|_sum$|_count$/.test(metric), `avg_over_time(${metric}) in ${expr}`);
      }
    }
  });

  it('the checker itself catches what it should', () => {
    const bad: Record<string, RegExp> = {
      'avg_over_time(flower_events_total{type="task-failed"}[15m])': /avg_over_time/,
      'flower_events_total{type="task-failed"}': /not in rate/,
      'celery_worker_up{worker="celery@a"}': /no label worker/,
      'sum by (task) (rate(celery_task_received_total[1m]))': /by \(task\)/,
      'sum(rate(celery_task_received_total[1m])) by (exception)': /by \(exception\)/,
      'rate(celery_queue_length[5m])': /gauge/,
      'histogram_quantile(0.95, sum by (le) (irate(celery_task_runtime_bucket[1m])))': /irate/,
      'celery_task_runtime_sum{le="1"}': /no label le/,
      'label_values(celery_worker_up, worker)': /no label worker/,
      'label_values(hostname)': /without a metric/,
      'celery_workers_up == 0': /unknown metric/,
      'sum(rate(celery_task_received_total[1m])) / on (exception) sum(rate(celery_task_succeeded_total[1m]))': /on \(exception\)/,
      'sum(rate(celery_task_received_total[1m]) by (name)': /unbalanced|unclosed/,
      'foo(celery_worker_up)': /unknown function/,
    };
    for (const [expr, expected] of Object.entries(bad)) {
      const problems = promqlProblems(expr);
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expr}: ${JSON.stringify(problems)}`,
      );
    }
    const good = [
      'histogram_quantile(0.95, sum by (le, name) (rate(celery_task_runtime_bucket{name=~".*", job="x"}[1m])))',
      'sum(rate(celery_task_failed_total{exception!=""}[1m])) by (exception, name)',
      'count(celery_worker_up == 0) or vector(0)',
      'celery_queue_length > 0 unless on (queue_name) celery_active_worker_count > 0',
      'time() - max by (hostname) (celery_worker_last_heartbeat_timestamp)',
      'max by (job, instance) (max_over_time(celery_worker_up[1h] offset 5m)) == 1',
    ];
    for (const expr of good) assert.deepEqual(promqlProblems(expr), [], expr);
  });

  it('every expression parses in Prometheus itself (promtool check rules)', { skip: skipUnless(PROMTOOL) }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'celeriac-dashboards-'));
    try {
      const rules = [
        ...dashboardExpressions().map((e) => substituteGrafanaVariables(e.expr)),
        ...variableQueries().flatMap((v) => (v.promql ? [substituteGrafanaVariables(v.promql)] : [])),
        kedaQuery(),
      ].map((expr, i) => ({ record: `celeriac:dashboard_expr_${i}`, expr }));
      const file = path.join(dir, 'dashboard-exprs.rules.json');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboards', rules }] }, null, 2));
      const { status, output } = runPromtool(['check', 'rules', file]);
      assert.equal(status, 0, output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tutor-parity dashboard', () => {
  const dashboard = loadDashboard('dashboards/tutor-parity.json');
  const panels = allPanels(dashboard).filter((p) => p.type !== 'row');

  it('has every panel of the tutor-contrib-celery dashboard, with its exact title', () => {
    assert.deepEqual(
      panels.map((p) => p.title),
      TUTOR_TITLES,
    );
  });

  it('has an optional namespace variable (All = .*) that every selector uses', () => {
    const namespace = dashboard.templating.list.find((v) => v.name === 'namespace');
    assert.ok(namespace);
    assert.equal(namespace.includeAll, true);
    assert.equal(namespace.allValue, '.*');
    for (const { file, panel, expr } of dashboardExpressions().filter((e) => e.file === 'dashboards/tutor-parity.json')) {
      for (const metric of analyzePromQL(substituteGrafanaVariables(expr, { namespace: 'NS' })).metrics) {
        assert.ok(
          metric.matchers.some((m) => m.label === 'namespace' && m.op === '=~' && m.value === 'NS'),
          `${file} "${panel}": ${metric.name} without namespace=~"$namespace"`,
        );
      }
    }
  });

  it('reads queue length from the broker, worker status from flower_worker_online, ratios from increase()', () => {
    const exprOf = (title: string) =>
      panels
        .find((p) => p.title === title)
        ?.targets?.map((t) => t.expr ?? '')
        .join('\n') ?? '';
    assert.match(exprOf('Total Queue Length'), /celery_queue_length/);
    assert.match(exprOf('Celery Worker Status'), /flower_worker_online/);
    for (const title of ['Tasks Success Ratio', 'Tasks Failure Ratio']) {
      assert.match(exprOf(title), /increase\(flower_events_total/);
      assert.doesNotMatch(exprOf(title), /avg_over_time/);
    }
  });
});

describe('celery-overview dashboard', () => {
  const exprs = dashboardExpressions().filter((e) => e.file === 'dashboards/celery-overview.json');
  const panelExprs = (title: string) => exprs.filter((e) => e.panel === title).map((e) => e.expr);

  it('computes runtime quantiles with histogram_quantile over rate()', () => {
    const runtime = panelExprs('Task runtime p50 / p95 / p99');
    assert.deepEqual(
      runtime.map((e) => /histogram_quantile\((0\.\d+),/.exec(e)?.[1]),
      ['0.5', '0.95', '0.99'],
    );
    for (const expr of runtime) assert.match(expr, /sum by \(le\) \(rate\(celery_task_runtime_bucket/);
  });

  it('guards ratios against division by zero and empty sides', () => {
    for (const title of ['Success ratio (range)', 'Failure ratio (range)', 'Success and failure ratio']) {
      for (const expr of panelExprs(title)) {
        assert.match(expr, /> 0\)$/, `${title}: denominator not filtered: ${expr}`);
        assert.match(expr, /or vector\(0\)/, `${title}: ${expr}`);
      }
    }
  });
});

describe('alert rules (dashboards/alerts.yaml)', () => {
  const rules = loadAlertRules();
  const alerts = new Map<string, AlertRule>();
  for (const group of rules.groups) for (const rule of group.rules) if ('alert' in rule) alerts.set(rule.alert, rule);

  it('is one group named celeriac', () => {
    assert.deepEqual(
      rules.groups.map((g) => g.name),
      ['celeriac'],
    );
  });

  it('has the expected alerts, windows and thresholds', () => {
    const expected: Record<string, { for: string; expr: RegExp }> = {
      CeleryWorkerDown: { for: '2m', expr: /^celery_worker_up == 0$/ },
      CeleryTaskFailureRatioHigh: { for: '5m', expr: /increase\(celery_task_failed_total\[10m\]\)[\s\S]*increase\(celery_task_succeeded_total\[10m\]\)[\s\S]*> 0\s*\)\s*\)\s*> 0\.05$/ },
      CeleryQueueBacklog: { for: '10m', expr: /^celery_queue_length > \d+$/ },
      CeleryQueueOldestMessageTooOld: { for: '5m', expr: /^celery_queue_oldest_message_age_seconds > 600$/ },
      CeleryQueueWithoutWorkers: { for: '10m', expr: /celery_active_worker_count/ },
      CeleriacBrokerDisconnected: { for: '1m', expr: /^celeriac_broker_connected == 0$/ },
      CeleriacNoEvents: { for: '1m', expr: /celeriac_seconds_since_last_event > 300[\s\S]*celery_worker_up/ },
      CeleriacIngestLagHigh: { for: '5m', expr: /^celeriac_ingest_lag_seconds > \d+$/ },
      CeleriacDroppingEvents: { for: '0s', expr: /^rate\(celeriac_events_dropped_total\[5m\]\) > 0$/ },
      CeleriacMetricsSeriesDropped: { for: '0s', expr: /celeriac_metrics_series_dropped_total/ },
      CeleriacStoreDegraded: { for: '5m', expr: /^celeriac_store_degraded == 1$/ },
      CeleriacMemoryNearLimit: { for: '10m', expr: /nodejs_heap_size_used_bytes \/ celeriac_heap_limit_bytes\) > 0\.85[\s\S]*process_resident_memory_bytes \/ celeriac_memory_limit_bytes\) > 0\.9$/ },
    };
    assert.deepEqual([...alerts.keys()].sort(), Object.keys(expected).sort());
    const byName = new Map(alertExpressions().map((a) => [a.alert, a]));
    for (const [name, { for: window, expr }] of Object.entries(expected)) {
      assert.equal(byName.get(name)?.for, window, `${name} for`);
      assert.match(byName.get(name)?.expr ?? '', expr, name);
    }
  });

  it('every alert has a severity and templated summary and description', () => {
    for (const [name, rule] of alerts) {
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels?.severity ?? ''), `${name}: severity`);
      for (const key of ['summary', 'description'] as const) {
        const text = rule.annotations?.[key] ?? '';
        assert.ok(text.length > 20, `${name}: ${key}`);
        assert.match(text, /\{\{ \$(labels\.\w+|value)/, `${name}: ${key} is not templated`);
      }
    }
  });

  it('unit tests cover every alert, firing and not firing', () => {
    const tests = readYaml(ALERTS_TEST_FILE) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] | null }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of alerts.keys()) {
      assert.ok(
        cases.some((c) => c.alertname === name && (c.exp_alerts ?? []).length > 0),
        `${name}: no firing case`,
      );
      assert.ok(
        cases.some((c) => c.alertname === name && (c.exp_alerts ?? []).length === 0),
        `${name}: no silent case`,
      );
    }
  });

  it('promtool check rules passes', { skip: skipUnless(PROMTOOL) }, () => {
    const { status, output } = runPromtool(['check', 'rules', path.relative(ROOT, ALERTS_FILE)]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 12 rules found/);
  });

  it('promtool test rules passes', { skip: skipUnless(PROMTOOL) }, () => {
    const { status, output } = runPromtool(['test', 'rules', path.relative(ROOT, ALERTS_TEST_FILE)]);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS/);
  });
});

function kedaQuery(): string {
  const [scaledObject] = readYamlDocuments('dashboards/kubernetes/keda-scaledobject.yaml') as { spec: { triggers: { type: string; metadata: Record<string, string> }[] } }[];
  const trigger = scaledObject?.spec.triggers.find((t) => t.type === 'prometheus');
  return trigger?.metadata.query ?? '';
}

describe('deployment examples', () => {
  it('prometheus.yml is valid and loads alerts.yaml (promtool check config)', { skip: skipUnless(PROMTOOL) }, () => {
    const { status, output } = runPromtool(['check', 'config', 'dashboards/prometheus.yml']);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS: 1 rule files found/);
  });

  it('Grafana provisioning: a file provider and a Prometheus data source', () => {
    const provider = readYaml('dashboards/provisioning/dashboards.yaml') as { apiVersion: number; providers: { type: string; options: { path: string } }[] };
    assert.equal(provider.apiVersion, 1);
    assert.equal(provider.providers[0]?.type, 'file');
    assert.equal(provider.providers[0]?.options.path, '/var/lib/grafana/dashboards/celeriac');
    const datasources = readYaml('dashboards/provisioning/datasource.yaml') as { apiVersion: number; datasources: { type: string; url: string }[] };
    assert.equal(datasources.datasources[0]?.type, 'prometheus');
  });

  it('ServiceMonitor scrapes the Service port 5555 at /metrics', () => {
    const docs = readYamlDocuments('dashboards/kubernetes/servicemonitor.yaml') as { kind: string; apiVersion: string; spec: Record<string, unknown> }[];
    const service = docs.find((d) => d.kind === 'Service') as unknown as { spec: { ports: { name: string; port: number }[] } };
    const monitor = docs.find((d) => d.kind === 'ServiceMonitor') as unknown as { apiVersion: string; spec: { endpoints: { port: string; path: string }[] } };
    assert.equal(monitor.apiVersion, 'monitoring.coreos.com/v1');
    const endpoint = monitor.spec.endpoints[0];
    assert.equal(endpoint?.path, '/metrics');
    assert.equal(service.spec.ports.find((p) => p.name === endpoint?.port)?.port, 5555);
  });

  it('the Kubernetes Deployment is safe: all interfaces, basic auth from a Secret, a NetworkPolicy', () => {
    type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
    type Container = { name: string; args?: string[]; env?: EnvVar[]; ports: { name: string; containerPort: number }[] };
    const docs = readYamlDocuments('dashboards/kubernetes/deployment.yaml') as { kind: string; metadata: { name: string }; spec: Record<string, unknown> }[];
    const deployment = docs.find((d) => d.kind === 'Deployment') as unknown as { spec: { template: { metadata: { labels: Record<string, string> }; spec: { containers: Container[] } } } };
    const container = deployment.spec.template.spec.containers[0] as Container;
    const env = container.env ?? [];
    assert.equal(env.find((e) => e.name === 'CELERIAC_BASIC_AUTH')?.valueFrom?.secretKeyRef?.name, 'celeriac', 'basic auth comes from the Secret');
    assert.equal(
      env.some((e) => e.value !== undefined && /auth|password|broker/i.test(e.name)),
      false,
      'no credential inline',
    );
    // What Celeriac itself concludes from this configuration (secrets filled with placeholders).
    const resolvedEnv = Object.fromEntries(env.map((e) => [e.name, e.value ?? (e.name === 'CELERIAC_BASIC_AUTH' ? 'ops:pw' : 'redis://redis:6379/0')]));
    const parsed = parseConfig(container.args ?? [], resolvedEnv);
    assert.equal(parsed.kind, 'config', parsed.kind === 'exit' ? parsed.output : '');
    if (parsed.kind !== 'config') return;
    assert.equal(parsed.config.address, '0.0.0.0');
    assert.equal(new AccessPolicy(parsed.config).state.mode, 'authenticated');
    const policy = docs.find((d) => d.kind === 'NetworkPolicy') as unknown as { spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from: unknown[] }[] } };
    assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.template.metadata.labels);
    assert.deepEqual(policy.spec.policyTypes, ['Ingress']);
    assert.ok(
      policy.spec.ingress.every((rule) => Array.isArray(rule.from) && rule.from.length > 0),
      'every ingress rule names its sources',
    );
    // No example opens the API: the opt-out appears in no manifest (only in a comment that forbids it).
    for (const file of readdirSync(path.join(DASHBOARDS_DIR, 'kubernetes'))) {
      const manifests = JSON.stringify(readYamlDocuments(`dashboards/kubernetes/${file}`));
      assert.doesNotMatch(manifests, /UNAUTHENTICATED|unauthenticated-api/i, file);
    }
  });

  it('KEDA ScaledObject uses the prometheus scaler on celery_queue_length', () => {
    const [scaledObject] = readYamlDocuments('dashboards/kubernetes/keda-scaledobject.yaml') as {
      apiVersion: string;
      kind: string;
      spec: { scaleTargetRef: { name: string }; triggers: { type: string; metadata: Record<string, string> }[] };
    }[];
    assert.equal(scaledObject?.apiVersion, 'keda.sh/v1alpha1');
    assert.equal(scaledObject?.kind, 'ScaledObject');
    const trigger = scaledObject?.spec.triggers.find((t) => t.type === 'prometheus');
    assert.ok(trigger);
    for (const key of ['serverAddress', 'query', 'threshold']) assert.equal(typeof trigger.metadata[key], 'string', key);
    assert.ok(Number(trigger.metadata.threshold) > 0);
    assert.match(kedaQuery(), /celery_queue_length\{queue_name="[^"]+"\}/);
    assert.deepEqual(promqlProblems(kedaQuery()), []);
  });

  it('README documents every file and dashboard', () => {
    const readme = readFileSync(path.join(DASHBOARDS_DIR, 'README.md'), 'utf8');
    const files: string[] = [];
    const list = (dir: string): void => {
      for (const entry of readdirSync(path.join(DASHBOARDS_DIR, dir), { withFileTypes: true })) {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) list(relative);
        else if (relative !== 'README.md') files.push(relative);
      }
    };
    list('');
    assert.ok(files.length >= 10, files.join(', '));
    for (const file of files) assert.ok(readme.includes(file), `README does not mention ${file}`);
    for (const [, dashboard] of dashboards) {
      for (const panel of allPanels(dashboard)) if (panel.type !== 'row') assert.ok(readme.includes(panel.title ?? ''), `README does not list panel "${panel.title}"`);
    }
  });
});

describe('substituteGrafanaVariables', () => {
  it('replaces the interval macros and variables', () => {
    assert.equal(
      substituteGrafanaVariables('sum(rate(x{a=~"$worker", b=~"${task}", c=~"${queue:regex}"}[$__rate_interval])) + increase(y[$__range]) + z[$__interval]'),
      'sum(rate(x{a=~".*", b=~".*", c=~".*"}[1m])) + increase(y[10m]) + z[15s]',
    );
    assert.equal(substituteGrafanaVariables('x{a=~"$namespace"}', { namespace: 'openedx' }), 'x{a=~"openedx"}');
    assert.equal(substituteGrafanaVariables('x[$__rate_interval]', { __rate_interval: '5m' }), 'x[5m]');
  });
});
