/**
 * The workflow graph's layout, free of React so it can be unit-tested: layers by depth from the
 * root, large sibling groups folded into one node.
 *
 * A folded group stands for its members *and everything below them* (a group of chains folds
 * whole chains), so it must account for every task it hides: it counts each state of all of them
 * and takes the colour of the worst one. A failure three levels down must show on the folded node,
 * never be dropped from the drawing and the counts alike.
 */

import type { WorkflowView, WorkflowNode as WorkflowNodeView } from '../../server/views/types';

/** What the layout reads of a node (the API sends each node's times too). */
export type WorkflowNode = Pick<WorkflowNodeView, 'uuid' | 'name' | 'state' | 'parent_id' | 'worker' | 'runtime'>;

/** The workflow as the API and the page send it, read through WorkflowNode. */
export type Workflow = Omit<WorkflowView, 'nodes'> & { nodes: WorkflowNode[] };

/** Siblings of one name under one parent beyond this count collapse into a group node. */
export const COLLAPSE_AT = 12;
export const NODE_W = 168;
export const NODE_H = 44;
export const GROUP_W = 260;
export const GROUP_H = 72;
export const GAP_X = 36;
export const GAP_Y = 64;

/** How many tasks of each kind a folded group hides. Every task lands in exactly one bucket. */
export interface StateTally {
  total: number;
  failed: number;
  rejected: number;
  retrying: number;
  revoked: number;
  /** STARTED and custom states (task-progress…): a worker is on it. */
  running: number;
  /** PENDING and RECEIVED: not started yet. */
  waiting: number;
  succeeded: number;
}

export type TallyKey = Exclude<keyof StateTally, 'total'>;

/** Worst first: the order the summary lists them in, and the order that picks a group's colour. */
export const TALLY_ORDER: readonly TallyKey[] = ['failed', 'rejected', 'retrying', 'revoked', 'running', 'waiting', 'succeeded'];
/** The state a group is drawn as when its worst bucket is this one. */
const TALLY_STATE: Record<TallyKey, string> = {
  failed: 'FAILURE',
  rejected: 'REJECTED',
  retrying: 'RETRY',
  revoked: 'REVOKED',
  running: 'STARTED',
  waiting: 'PENDING',
  succeeded: 'SUCCESS',
};

export function tallyKey(state: string): TallyKey {
  switch (state) {
    case 'SUCCESS':
      return 'succeeded';
    case 'FAILURE':
      return 'failed';
    case 'REJECTED':
      return 'rejected';
    case 'RETRY':
      return 'retrying';
    case 'REVOKED':
      return 'revoked';
    case 'PENDING':
    case 'RECEIVED':
      return 'waiting';
    default:
      return 'running'; // STARTED and custom states
  }
}

export function tally(nodes: Iterable<WorkflowNode>): StateTally {
  const counts: StateTally = { total: 0, failed: 0, rejected: 0, retrying: 0, revoked: 0, running: 0, waiting: 0, succeeded: 0 };
  for (const node of nodes) {
    counts.total++;
    counts[tallyKey(node.state)]++;
  }
  return counts;
}

/**
 * The state a folded group is drawn as: its worst bucket. A revoked task among successes is not
 * "all done", and a failure anywhere inside makes the whole group a failure.
 */
export function groupState(counts: StateTally): string {
  for (const key of TALLY_ORDER) if (counts[key] > 0) return TALLY_STATE[key];
  return 'PENDING';
}

/** "1 failed · 2 running · 36 succeeded": the non-empty buckets, worst first. */
export function tallyParts(counts: StateTally): { key: TallyKey; text: string }[] {
  return TALLY_ORDER.filter((key) => counts[key] > 0).map((key) => ({ key, text: `${counts[key]} ${key}` }));
}

export interface Box {
  id: string;
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  sub: string;
  state: string;
  /** For a folded group: its members (the siblings), everything inside (members and their descendants), and the tally of those. */
  group: { members: WorkflowNode[]; inside: WorkflowNode[]; counts: StateTally; key: string } | null;
  node: WorkflowNode | null;
}

export interface Layout {
  boxes: Box[];
  lines: { from: Box; to: Box }[];
  width: number;
  height: number;
}

export function layout(workflow: Workflow, expanded: ReadonlySet<string>): Layout {
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
    const layer = layers[depth] ?? [];
    layers[depth] = layer;
    layer.push(box);
    return box;
  };
  const seen = new Set<string>();
  /** The members and all their descendants not drawn elsewhere: what a folded group hides. */
  const inside = (members: WorkflowNode[]): WorkflowNode[] => {
    const found: WorkflowNode[] = [];
    const stack = [...members];
    while (stack.length > 0) {
      const node = stack.pop() as WorkflowNode;
      if (seen.has(node.uuid)) continue;
      seen.add(node.uuid);
      found.push(node);
      for (const kid of children.get(node.uuid) ?? []) stack.push(kid);
    }
    return found;
  };
  // Breadth-first from the roots; each node once (a DAG may join).
  const queue: { node: WorkflowNode; depth: number; parent: Box | null }[] = roots.map((node) => ({ node, depth: 0, parent: null }));
  while (queue.length > 0) {
    const { node, depth, parent } = queue.shift() as { node: WorkflowNode; depth: number; parent: Box | null };
    if (seen.has(node.uuid)) {
      const existing = boxOf.get(node.uuid);
      if (parent && existing) lines.push({ from: parent, to: existing });
      continue;
    }
    seen.add(node.uuid);
    const box = place(depth, { id: node.uuid, x: 0, y: 0, w: NODE_W, h: NODE_H, label: node.name ?? '(unknown task)', sub: node.uuid.slice(0, 8), state: node.state, group: null, node });
    boxOf.set(node.uuid, box);
    if (parent) lines.push({ from: parent, to: box });
    const kids = children.get(node.uuid) ?? [];
    const byName = new Map<string, WorkflowNode[]>();
    for (const kid of kids) byName.set(kid.name ?? '', [...(byName.get(kid.name ?? '') ?? []), kid]);
    for (const [name, members] of byName) {
      const key = `${node.uuid}:${name}`;
      if (members.length > COLLAPSE_AT && !expanded.has(key)) {
        const hidden = inside(members);
        const counts = tally(hidden);
        const sub = tallyParts(counts)
          .map((p) => p.text)
          .join(' · ');
        const group = place(depth + 1, {
          id: key,
          x: 0,
          y: 0,
          w: GROUP_W,
          h: GROUP_H,
          label: `${members.length} × ${name || 'task'}`,
          sub,
          state: groupState(counts),
          group: { members, inside: hidden, counts, key },
          node: null,
        });
        lines.push({ from: box, to: group });
      } else {
        for (const member of members) queue.push({ node: member, depth: depth + 1, parent: box });
      }
    }
  }
  const layerWidth = (layer: Box[]): number => layer.reduce((sum, box) => sum + box.w + GAP_X, 0);
  const width = Math.max(NODE_W, ...layers.map(layerWidth));
  let y = 0;
  for (const layer of layers) {
    // Centre each layer under the widest one.
    let x = (width - layerWidth(layer)) / 2;
    const rowHeight = Math.max(...layer.map((box) => box.h));
    for (const box of layer) {
      box.x = x;
      box.y = y;
      x += box.w + GAP_X;
    }
    y += rowHeight + GAP_Y;
  }
  return { boxes: layers.flat(), lines, width, height: y };
}
