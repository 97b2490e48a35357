/**
 * The workflow graph's folding (components/workflow/layout.ts): a folded group accounts for every
 * task it hides — members and everything below them — and takes the colour of the worst state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { COLLAPSE_AT, groupState, layout, tally, tallyParts, type Workflow, type WorkflowNode } from '../../components/workflow/layout';

function node(uuid: string, name: string, state: string, parent: string | null): WorkflowNode {
  return { uuid, name, state, parent_id: parent, worker: null, runtime: null };
}

/** A root, then `chains` chains of `steps` tasks whose heads are siblings of the root. */
function groupOfChains(chains: number, steps: number, stateOf: (chain: number, step: number) => string): Workflow {
  const nodes: WorkflowNode[] = [node('root', 'tasks.add', 'SUCCESS', null)];
  for (let c = 0; c < chains; c++) {
    let parent = 'root';
    for (let s = 0; s < steps; s++) {
      const id = `c${c}s${s}`;
      nodes.push(node(id, s === 0 ? 'tasks.add' : `tasks.step${s}`, stateOf(c, s), parent));
      parent = id;
    }
  }
  const edges = nodes.filter((n) => n.parent_id !== null).map((n) => ({ from: n.parent_id as string, to: n.uuid }));
  return { root: 'root', truncated: false, nodes, edges };
}

describe('workflow layout: folded groups', () => {
  it('counts and colours a failure deep inside a folded group of chains', () => {
    // The case: 13 chains, one failed step below an all-green set of members.
    const workflow = groupOfChains(13, 3, (c, s) => (c === 7 && s === 2 ? 'FAILURE' : 'SUCCESS'));
    const { boxes } = layout(workflow, new Set());
    assert.deepEqual(
      boxes.map((b) => b.id),
      ['root', 'root:tasks.add'],
      'folded: the root and one group node',
    );
    const group = boxes[1];
    assert.ok(group?.group);
    assert.equal(group.group.members.length, 13);
    assert.equal(group.group.inside.length, 39, 'members and both steps below each of them');
    assert.equal(group.group.counts.failed, 1);
    assert.equal(group.group.counts.succeeded, 38);
    assert.equal(group.state, 'FAILURE');
    assert.equal(group.sub, '1 failed · 38 succeeded');
  });

  it('gives every state its bucket: retried, revoked, running, waiting', () => {
    const states = ['RETRY', 'REVOKED', 'STARTED', 'PROGRESS', 'RECEIVED', 'PENDING', 'REJECTED'];
    const workflow = groupOfChains(COLLAPSE_AT + 1, 2, (c, s) => (s === 1 && c < states.length ? (states[c] as string) : 'SUCCESS'));
    const group = layout(workflow, new Set()).boxes.find((b) => b.group)?.group;
    assert.ok(group);
    assert.deepEqual(group.counts, { total: 26, failed: 0, rejected: 1, retrying: 1, revoked: 1, running: 2, waiting: 2, succeeded: 19 });
    assert.deepEqual(
      tallyParts(group.counts).map((p) => p.text),
      ['1 rejected', '1 retrying', '1 revoked', '2 running', '2 waiting', '19 succeeded'],
    );
  });

  it('picks the worst state for the group colour; only all-succeeded is green', () => {
    const counts = (states: string[]) => tally(states.map((s, i) => node(String(i), 't', s, null)));
    assert.equal(groupState(counts(['SUCCESS', 'SUCCESS'])), 'SUCCESS');
    assert.equal(groupState(counts(['SUCCESS', 'REVOKED'])), 'REVOKED', 'a revoked task is not "done"');
    assert.equal(groupState(counts(['SUCCESS', 'STARTED'])), 'STARTED');
    // Problems outrank progress: a revoked task shows even while others still run.
    assert.equal(groupState(counts(['SUCCESS', 'STARTED', 'REVOKED'])), 'REVOKED');
    assert.equal(groupState(counts(['SUCCESS', 'STARTED', 'RETRY'])), 'RETRY');
    assert.equal(groupState(counts(['RETRY', 'FAILURE', 'STARTED'])), 'FAILURE');
    assert.equal(groupState(counts(['SUCCESS', 'PENDING'])), 'PENDING');
  });

  it('draws everything once expanded, the failed step included', () => {
    const workflow = groupOfChains(13, 3, (c, s) => (c === 0 && s === 1 ? 'FAILURE' : 'SUCCESS'));
    const { boxes, lines } = layout(workflow, new Set(['root:tasks.add']));
    assert.equal(boxes.length, 40);
    assert.equal(boxes.find((b) => b.id === 'c0s1')?.state, 'FAILURE');
    assert.equal(lines.length, 39);
    // Laid out in 4 rows, each below the previous one.
    const rows = [...new Set(boxes.map((b) => b.y))];
    assert.equal(rows.length, 4);
  });

  it('leaves small groups unfolded', () => {
    const workflow = groupOfChains(COLLAPSE_AT, 1, () => 'SUCCESS');
    const { boxes } = layout(workflow, new Set());
    assert.equal(boxes.length, COLLAPSE_AT + 1);
    assert.ok(boxes.every((b) => b.group === null));
  });
});
