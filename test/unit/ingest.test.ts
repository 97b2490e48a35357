import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterState } from '../../server/state/cluster-state';
import { Ingest } from '../../server/state/ingest';
import { capturingLogger } from '../helpers/capturing-logger';

describe('Ingest: drops are counted by reason and logged without flooding', () => {
  it('logs the first drop of a reason at once, then one summary per interval', async () => {
    const { logger, lines } = capturingLogger();
    const ingest = new Ingest(new ClusterState({ maxTasks: 10, maxWorkers: 10 }), logger, 50);
    for (let i = 0; i < 1000; i++) ingest.drop('bad_json', 'event body is not valid JSON');
    ingest.drop('oversized', 'big');
    await new Promise((r) => setTimeout(r, 60));
    ingest.drop('bad_json', 'event body is not valid JSON');
    await new Promise((r) => setImmediate(r));
    assert.equal(ingest.counters.dropped.bad_json, 1001);
    assert.equal(ingest.counters.dropped.oversized, 1);
    assert.equal(ingest.totalDropped(), 1002);
    const badJsonLines = lines.filter((l) => l.reason === 'bad_json');
    assert.equal(badJsonLines.length, 2, 'first occurrence + one summary, not 1001 lines');
    assert.equal(badJsonLines[1]?.total, 1001);
    assert.equal(badJsonLines[1]?.since, 1000);
    assert.equal(lines.filter((l) => l.reason === 'oversized').length, 1);
  });

  it('a drop never touches the model', () => {
    const { logger } = capturingLogger();
    const state = new ClusterState({ maxTasks: 10, maxWorkers: 10 });
    const ingest = new Ingest(state, logger);
    ingest.event({ kind: 'task', type: 'task-received', uuid: 'a', hostname: 'w@h', timestamp: 1, localReceived: 1, clock: 1, utcoffset: 0, pid: 1, name: 'x' });
    ingest.drop('wrong_type', 'x');
    ingest.ignored();
    assert.equal(state.tasks.size, 1);
    assert.equal(state.getTask('a')?.state, 'RECEIVED');
    assert.equal(ingest.counters.events, 1);
    assert.equal(ingest.counters.ignored, 1);
    assert.equal(ingest.counters.byType.get('task-received'), 1);
  });
});
