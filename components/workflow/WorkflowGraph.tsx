'use client';

/**
 * The DAG of a workflow (every task sharing a root, linked parent → child), laid out in layers
 * by depth from the root, each node coloured by its live state. Stays usable at thousands of
 * nodes: large sibling groups collapse into one node (expandable), the view zooms and pans, and
 * a search highlights matching tasks. Refreshes when tasks change (throttled by the server).
 */
import Link from 'next/link';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { VIEW_EVENTS } from '@/server/realtime/types';
import { useLiveView } from '../useLiveView';
import styles from './workflow.module.css';

export interface WorkflowNode {
  uuid: string;
  name: string | null;
  state: string;
  parent_id: string | null;
  worker: string | null;
  runtime: number | null;
}

export interface Workflow {
  root: string;
  truncated: boolean;
  nodes: WorkflowNode[];
  edges: { from: string; to: string }[];
}

/** Siblings of one name under one parent beyond this count collapse into a group node. */
const COLLAPSE_AT = 12;
const NODE_W = 168;
const NODE_H = 44;
const GAP_X = 36;
const GAP_Y = 64;

interface Box {
  id: string;
  x: number;
  y: number;
  label: string;
  sub: string;
  state: string;
  /** For a collapsed group: its members and their states. */
  group: { members: WorkflowNode[]; key: string } | null;
  node: WorkflowNode | null;
}

const STATE_CLASS: Record<string, string> = { SUCCESS: 'ok', FAILURE: 'bad', STARTED: 'busy', RETRY: 'warn', REVOKED: 'idle', REJECTED: 'idle', RECEIVED: 'pending', PENDING: 'pending' };

function layout(workflow: Workflow, expanded: ReadonlySet<string>): { boxes: Box[]; lines: { from: Box; to: Box }[]; width: number; height: number } {
  const children = new Map<string, WorkflowNode[]>();
  const byId = new Map(workflow.nodes.map((n) => [n.uuid, n]));
  for (const edge of workflow.edges) {
    const child = byId.get(edge.to);
    if (!child) continue;
    const list = children.get(edge.from) ?? [];
    list.push(child);
    children.set(edge.from, list);
  }
  const hasParent = new Set(workflow.edges.map((e) => e.to));
  const roots = workflow.nodes.filter((n) => !hasParent.has(n.uuid));
  const layers: Box[][] = [];
  const boxOf = new Map<string, Box>();
  const lines: { from: Box; to: Box }[] = [];
  const place = (depth: number, box: Box): Box => {
    (layers[depth] ??= []).push(box);
    return box;
  };
  // Breadth-first from the roots; each node once (a DAG may join).
  const queue: { node: WorkflowNode; depth: number; parent: Box | null }[] = roots.map((node) => ({ node, depth: 0, parent: null }));
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { node, depth, parent } = queue.shift() as { node: WorkflowNode; depth: number; parent: Box | null };
    if (seen.has(node.uuid)) {
      const existing = boxOf.get(node.uuid);
      if (parent && existing) lines.push({ from: parent, to: existing });
      continue;
    }
    seen.add(node.uuid);
    const box = place(depth, { id: node.uuid, x: 0, y: 0, label: node.name ?? '(unknown task)', sub: node.uuid.slice(0, 8), state: node.state, group: null, node });
    boxOf.set(node.uuid, box);
    if (parent) lines.push({ from: parent, to: box });
    const kids = children.get(node.uuid) ?? [];
    const byName = new Map<string, WorkflowNode[]>();
    for (const kid of kids) byName.set(kid.name ?? '', [...(byName.get(kid.name ?? '') ?? []), kid]);
    for (const [name, members] of byName) {
      const key = `${node.uuid}:${name}`;
      if (members.length > COLLAPSE_AT && !expanded.has(key)) {
        const done = members.filter((m) => m.state === 'SUCCESS').length;
        const failed = members.filter((m) => m.state === 'FAILURE').length;
        const state = failed > 0 ? 'FAILURE' : done === members.length ? 'SUCCESS' : members.some((m) => m.state === 'STARTED') ? 'STARTED' : 'PENDING';
        const group = place(depth + 1, { id: key, x: 0, y: 0, label: `${members.length} × ${name || 'task'}`, sub: `${done} done · ${failed} failed`, state, group: { members, key }, node: null });
        lines.push({ from: box, to: group });
        for (const member of members) seen.add(member.uuid);
      } else {
        for (const member of members) queue.push({ node: member, depth: depth + 1, parent: box });
      }
    }
  }
  let width = 0;
  layers.forEach((layer, depth) => {
    layer.forEach((box, i) => {
      box.x = i * (NODE_W + GAP_X);
      box.y = depth * (NODE_H + GAP_Y);
    });
    width = Math.max(width, layer.length * (NODE_W + GAP_X));
  });
  // Centre each layer under the widest one.
  for (const layer of layers) {
    const layerWidth = layer.length * (NODE_W + GAP_X);
    for (const box of layer) box.x += (width - layerWidth) / 2;
  }
  return { boxes: layers.flat(), lines, width: Math.max(width, NODE_W), height: layers.length * (NODE_H + GAP_Y) };
}

export function WorkflowGraph({ taskId, initial }: { taskId: string; initial: Workflow | null }) {
  const prefix = process.env.NEXT_PUBLIC_CELERIAC_URL_PREFIX ?? '';
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
      const res = await fetch(`${prefix}/api/celeriac/workflow/${encodeURIComponent(taskId)}`);
      const body = (await res.json()) as Workflow & { error?: string };
      if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
      setWorkflow(body);
      setError(null);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    } finally {
      loading.current = false;
    }
  }, [prefix, taskId]);

  useLiveView('tasks', { [VIEW_EVENTS.tasksChanged]: () => void reload() });
  useEffect(() => {
    if (!initial) void reload();
  }, [initial, reload]);

  const graph = useMemo(() => (workflow ? layout(workflow, expanded) : null), [workflow, expanded]);
  const needle = query.trim().toLowerCase();
  const matches = (box: Box): boolean => needle !== '' && (box.label.toLowerCase().includes(needle) || (box.node?.uuid.toLowerCase().includes(needle) ?? false));

  if (!workflow || !graph) {
    return <p className="muted" data-testid="workflow-missing">{error ?? 'Loading the workflow…'}</p>;
  }
  const counts = workflow.nodes.reduce<Record<string, number>>((acc, n) => ({ ...acc, [n.state]: (acc[n.state] ?? 0) + 1 }), {});
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
        <button type="button" className="button" onClick={() => setZoom((z) => Math.max(0.2, z / 1.25))} aria-label="Zoom out">−</button>
        <span className={styles.zoom}>{Math.round(zoom * 100)}%</span>
        <button type="button" className="button" onClick={() => setZoom((z) => Math.min(3, z * 1.25))} aria-label="Zoom in">+</button>
        <button type="button" className="button" onClick={() => setZoom(1)}>Reset</button>
      </div>
      <div className={styles.canvas}>
        <svg width={(graph.width + 40) * zoom} height={(graph.height + 40) * zoom} viewBox={`-20 -20 ${graph.width + 40} ${graph.height + 40}`} role="img" aria-label="Workflow graph" data-testid="workflow-graph">
          {graph.lines.map(({ from, to }, i) => (
            <path
              key={i}
              className={styles.edge}
              data-testid="workflow-edge"
              data-from={from.id}
              data-to={to.id}
              d={`M ${from.x + NODE_W / 2} ${from.y + NODE_H} C ${from.x + NODE_W / 2} ${from.y + NODE_H + GAP_Y / 2}, ${to.x + NODE_W / 2} ${to.y - GAP_Y / 2}, ${to.x + NODE_W / 2} ${to.y}`}
            />
          ))}
          {graph.boxes.map((box) => (
            <g
              key={box.id}
              transform={`translate(${box.x} ${box.y})`}
              className={`${styles.node} ${styles[STATE_CLASS[box.state] ?? 'custom']} ${matches(box) ? styles.match : ''}`}
              data-testid="workflow-node"
              data-id={box.id}
              data-state={box.state}
              tabIndex={0}
              role="button"
              aria-label={`${box.label} ${box.state}`}
              onClick={() => (box.group ? setExpanded(new Set([...expanded, box.group.key])) : setSelected(box))}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') (box.group ? setExpanded(new Set([...expanded, box.group.key])) : setSelected(box));
              }}
            >
              <rect width={NODE_W} height={NODE_H} rx={8} />
              <text x={10} y={18} className={styles.label}>
                {box.label.length > 22 ? `${box.label.slice(0, 21)}…` : box.label}
              </text>
              <text x={10} y={34} className={styles.sub}>
                {box.group ? `${box.sub} · click to expand` : `${box.state} · ${box.sub}`}
              </text>
            </g>
          ))}
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
    </section>
  );
}
