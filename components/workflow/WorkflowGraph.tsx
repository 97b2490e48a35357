'use client';

/**
 * The DAG of a workflow (every task sharing a root, linked parent → child), laid out in layers
 * by depth from the root, each node coloured by its live state. Stays usable at thousands of
 * nodes: large sibling groups collapse into one node (expandable) that counts and colours every
 * state of everything inside it (./layout.ts), the view zooms and pans, and a search highlights
 * matching tasks. Refreshes when tasks change (throttled by the server).
 */
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { VIEW_EVENTS } from '@/server/realtime/types';
import { errorText, getJson } from '../api';
import { useLiveView } from '../useLiveView';
import { GAP_Y, layout, tallyParts, type Box, type TallyKey, type Workflow } from './layout';
import styles from './workflow.module.css';

export type { Workflow, WorkflowNode } from './layout';

const STATE_CLASS: Record<string, string> = { SUCCESS: 'ok', FAILURE: 'bad', STARTED: 'busy', RETRY: 'warn', REVOKED: 'idle', REJECTED: 'bad', RECEIVED: 'pending', PENDING: 'pending' };
/** Colour of each bucket in a folded group's state bar and summary. */
const TALLY_CLASS: Record<TallyKey, string> = { failed: 'bad', rejected: 'bad', retrying: 'warn', revoked: 'idle', running: 'busy', waiting: 'pending', succeeded: 'ok' };

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A folded group: what it hides, bucket by bucket, with the problems on their own line in their colour. */
function GroupBody({ box }: { box: Box & { group: NonNullable<Box['group']> } }) {
  const { counts } = box.group;
  const parts = tallyParts(counts);
  const problems = parts.filter((p) => p.key !== 'running' && p.key !== 'waiting' && p.key !== 'succeeded');
  const progress = parts.filter((p) => p.key === 'running' || p.key === 'waiting' || p.key === 'succeeded');
  const barWidth = box.w - 20;
  const raw = parts.map((p) => ({ key: p.key, w: Math.max(4, (counts[p.key] / counts.total) * barWidth) }));
  const scale = barWidth / raw.reduce((sum, r) => sum + r.w, 0);
  let x = 0;
  const bar = raw.map((r) => {
    const segment = { key: r.key, x, w: r.w * scale };
    x += segment.w;
    return segment;
  });
  return (
    <>
      <text x={10} y={18} className={styles.label}>
        {clip(box.label, 28)}
      </text>
      <text x={box.w - 10} y={18} className={styles.sub} textAnchor="end">
        expand ▸
      </text>
      <text x={10} y={34} className={styles.sub}>
        <tspan data-testid="workflow-group-total">{counts.total} tasks</tspan>
        {problems.map((p) => (
          <tspan key={p.key} className={`${styles.count} ${styles[`count-${TALLY_CLASS[p.key]}`] ?? ''}`} data-testid={`workflow-group-${p.key}`}>
            {` · ${p.text}`}
          </tspan>
        ))}
      </text>
      <text x={10} y={50} className={styles.sub}>
        {progress.map((p) => p.text).join(' · ')}
      </text>
      {/* Proportional state bar; a single failure among thousands still gets a visible sliver. */}
      <g transform={`translate(10 ${box.h - 14})`}>
        {bar.map((segment) => (
          <rect key={segment.key} className={styles[`bar-${TALLY_CLASS[segment.key]}`]} x={segment.x} width={segment.w} height={6} />
        ))}
      </g>
    </>
  );
}

export function WorkflowGraph({ taskId, initial }: { taskId: string; initial: Workflow | null }) {
  const [workflow, setWorkflow] = useState<Workflow | null>(initial);
  const [error, setError] = useState<string | null>(null);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [zoom, setZoom] = useState(1);
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<Box | null>(null);
  const loading = useRef(false);

  const reload = useCallback(async () => {
    if (loading.current) return;
    loading.current = true;
    try {
      setWorkflow(await getJson<Workflow>(`/api/celeriac/workflow/${encodeURIComponent(taskId)}`));
      setError(null);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      loading.current = false;
    }
  }, [taskId]);

  useLiveView('tasks', { [VIEW_EVENTS.tasksChanged]: () => void reload() });
  useEffect(() => {
    if (!initial) void reload();
  }, [initial, reload]);

  const graph = useMemo(() => (workflow ? layout(workflow, expanded) : null), [workflow, expanded]);
  const needle = query.trim().toLowerCase();
  const nodeMatches = (node: { name: string | null; uuid: string }): boolean => (node.name ?? '').toLowerCase().includes(needle) || node.uuid.toLowerCase().includes(needle);
  // A folded group matches when anything inside it does, so a search never misses a hidden task.
  const matches = (box: Box): boolean => needle !== '' && (box.label.toLowerCase().includes(needle) || (box.node ? nodeMatches(box.node) : (box.group?.inside.some(nodeMatches) ?? false)));

  if (!workflow || !graph) {
    return (
      <p className="muted" data-testid="workflow-missing">
        {error ?? 'Loading the workflow…'}
      </p>
    );
  }
  // Failed and rejected tasks a folded group hides, linked, so nobody has to unfold to find them.
  const hiddenProblems = graph.boxes.flatMap((box) => (box.group ? box.group.inside.filter((n) => n.state === 'FAILURE' || n.state === 'REJECTED').map((node) => ({ group: box.label, node })) : []));
  const counts: Record<string, number> = {};
  for (const n of workflow.nodes) counts[n.state] = (counts[n.state] ?? 0) + 1;
  return (
    <section className="panel" data-testid="workflow">
      <div className={styles.toolbar}>
        <span data-testid="workflow-count">
          {workflow.nodes.length} task{workflow.nodes.length === 1 ? '' : 's'}
          {workflow.truncated ? ' (truncated)' : ''}
        </span>
        <span className={styles.states}>
          {Object.entries(counts).map(([state, n]) => (
            <span key={state} className={`${styles.chip} ${styles[STATE_CLASS[state] ?? 'custom']}`}>
              {state} {n}
            </span>
          ))}
        </span>
        <input className={styles.search} value={query} onChange={(e) => setQuery(e.target.value)} placeholder="Find a task (name or id)" aria-label="Find a task" data-testid="workflow-search" />
        <button type="button" className="button" onClick={() => setZoom((z) => Math.max(0.2, z / 1.25))} aria-label="Zoom out">
          −
        </button>
        <span className={styles.zoom}>{Math.round(zoom * 100)}%</span>
        <button type="button" className="button" onClick={() => setZoom((z) => Math.min(3, z * 1.25))} aria-label="Zoom in">
          +
        </button>
        <button type="button" className="button" onClick={() => setZoom(1)}>
          Reset
        </button>
      </div>
      <div className={styles.canvas}>
        <svg
          width={(graph.width + 40) * zoom}
          height={(graph.height + 40) * zoom}
          viewBox={`-20 -20 ${graph.width + 40} ${graph.height + 40}`}
          role="img"
          aria-label="Workflow graph"
          data-testid="workflow-graph"
        >
          {graph.lines.map(({ from, to }) => (
            <path
              key={`${from.id}→${to.id}`}
              className={styles.edge}
              data-testid="workflow-edge"
              data-from={from.id}
              data-to={to.id}
              d={`M ${from.x + from.w / 2} ${from.y + from.h} C ${from.x + from.w / 2} ${from.y + from.h + GAP_Y / 2}, ${to.x + to.w / 2} ${to.y - GAP_Y / 2}, ${to.x + to.w / 2} ${to.y}`}
            />
          ))}
          {graph.boxes.map((box) => {
            const group = box.group;
            const summary = group
              ? `${box.label}: ${group.counts.total} tasks inside (${tallyParts(group.counts)
                  .map((p) => p.text)
                  .join(', ')})`
              : `${box.label} ${box.state}`;
            const activate = () => (group ? setExpanded(new Set([...expanded, group.key])) : setSelected(box));
            return (
              <g
                key={box.id}
                transform={`translate(${box.x} ${box.y})`}
                className={`${styles.node} ${styles[STATE_CLASS[box.state] ?? 'custom']} ${matches(box) ? styles.match : ''}`}
                data-testid="workflow-node"
                data-id={box.id}
                data-state={box.state}
                data-group={group ? 'folded' : undefined}
                data-failed={group ? group.counts.failed : undefined}
                tabIndex={0}
                role="button"
                aria-label={group ? `${summary}; press to expand` : summary}
                onClick={activate}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') activate();
                }}
              >
                <title>{group ? `${summary}. Click to expand.` : summary}</title>
                <rect width={box.w} height={box.h} rx={8} />
                {group ? (
                  <GroupBody box={{ ...box, group }} />
                ) : (
                  <>
                    <text x={10} y={18} className={styles.label}>
                      {clip(box.label, 22)}
                    </text>
                    <text x={10} y={34} className={styles.sub}>
                      {`${box.state} · ${box.sub}`}
                    </text>
                  </>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      {selected?.node ? (
        <div className={styles.detail} data-testid="workflow-selected">
          <Link href={`/task/${encodeURIComponent(selected.node.uuid)}`}>{selected.node.name ?? selected.node.uuid}</Link>
          <span>{selected.node.state}</span>
          {selected.node.worker ? <span className="muted">on {selected.node.worker}</span> : null}
          {selected.node.runtime !== null ? <span className="muted">{selected.node.runtime.toFixed(3)} s</span> : null}
          <code>{selected.node.uuid}</code>
        </div>
      ) : null}
      {hiddenProblems.length > 0 ? (
        <div className={styles.hidden} data-testid="workflow-hidden-problems">
          <strong>Inside folded groups:</strong>
          <ul>
            {hiddenProblems.slice(0, 10).map(({ group, node }) => (
              <li key={node.uuid}>
                <span className={`${styles.chip} ${styles[STATE_CLASS[node.state] ?? 'custom']}`}>{node.state}</span>{' '}
                <Link href={`/task/${encodeURIComponent(node.uuid)}`} data-testid="workflow-hidden-problem">
                  {node.name ?? node.uuid}
                </Link>{' '}
                <code>{node.uuid}</code> <span className="muted">in {group}</span>
              </li>
            ))}
            {hiddenProblems.length > 10 ? <li className="muted">and {hiddenProblems.length - 10} more</li> : null}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
