import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { decodeAmqpMessage, decodeRedisMessage, OVERSIZED_MARKER_PREFIX } from '../../server/protocol/decode';
import type { TaskEvent, WorkerEvent } from '../../server/protocol/events';
import { CollectingSink, redisEnvelope } from '../helpers/collecting-sink';

const NOW = 1_795_261_476;

const heartbeat = {
  hostname: 'w1@testhost',
  utcoffset: 0,
  pid: 11624,
  clock: 21,
  freq: 2.0,
  active: 0,
  processed: 3,
  loadavg: [0.45, 0.34, 0.14],
  sw_ident: 'py-celery',
  sw_ver: '5.2.6',
  sw_sys: 'Linux',
  timestamp: 1795261475.653617,
  type: 'worker-heartbeat',
};

const received = {
  hostname: 'w1@testhost',
  utcoffset: 0,
  pid: 11624,
  clock: 10,
  uuid: '63d9fdac-39da-430e-8f2e-70fe4dc5b83c',
  name: 'tasks.add',
  args: '(2, 3)',
  kwargs: '{}',
  root_id: '63d9fdac-39da-430e-8f2e-70fe4dc5b83c',
  parent_id: null,
  retries: 0,
  eta: null,
  expires: null,
  timestamp: 1795261475.1864474,
  type: 'task-received',
};

function decodeOne(payload: string): CollectingSink {
  const sink = new CollectingSink();
  decodeRedisMessage(payload, NOW, sink);
  return sink;
}

describe('decodeRedisMessage: well-formed messages', () => {
  it('decodes a worker heartbeat into a typed worker event', () => {
    const sink = decodeOne(redisEnvelope(heartbeat));
    assert.deepEqual(sink.drops, []);
    assert.equal(sink.events.length, 1);
    const event = sink.events[0] as WorkerEvent;
    assert.equal(event.kind, 'worker');
    assert.equal(event.type, 'worker-heartbeat');
    assert.equal(event.hostname, 'w1@testhost');
    assert.equal(event.freq, 2);
    assert.deepEqual(event.loadavg, [0.45, 0.34, 0.14]);
    assert.equal(event.swVer, '5.2.6');
    assert.equal(event.timestamp, 1795261475.653617);
    assert.equal(event.localReceived, NOW);
    assert.equal(event.clock, 21);
  });

  it('decodes a task.multi list body into one event per element, in order', () => {
    const started = { hostname: 'w1@testhost', utcoffset: 0, pid: 11624, clock: 13, uuid: received.uuid, timestamp: 1795261475.192282, type: 'task-started' };
    const succeeded = { hostname: 'w1@testhost', utcoffset: 0, pid: 11624, clock: 15, uuid: received.uuid, result: '5', runtime: 0.00035, timestamp: 1795261475.195142, type: 'task-succeeded' };
    const sink = decodeOne(redisEnvelope([received, succeeded, started]));
    assert.deepEqual(sink.drops, []);
    assert.deepEqual(
      sink.events.map((e) => e.type),
      ['task-received', 'task-succeeded', 'task-started'],
    );
    const first = sink.events[0] as TaskEvent;
    assert.equal(first.name, 'tasks.add');
    assert.equal(first.args, '(2, 3)');
    assert.equal(first.rootId, received.uuid);
    assert.equal(first.parentId, null);
    assert.equal((sink.events[1] as TaskEvent).result, '5');
  });

  it('keeps the fields of custom task events as extra', () => {
    const sink = decodeOne(redisEnvelope({ hostname: 'w1@h', timestamp: 1, type: 'task-progress', uuid: 'u1', current: 3, total: 10, clock: 4 }));
    assert.deepEqual(sink.drops, []);
    const event = sink.events[0] as TaskEvent;
    assert.equal(event.type, 'task-progress');
    assert.deepEqual(event.extra, { current: 3, total: 10 });
  });

  it('inflates zlib-compressed bodies (kombu "application/x-gzip")', () => {
    const compressed = deflateSync(Buffer.from(JSON.stringify(heartbeat)));
    const payload = JSON.stringify({
      body: compressed.toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: { compression: 'application/x-gzip' },
      properties: { body_encoding: 'base64' },
    });
    const sink = decodeOne(payload);
    assert.deepEqual(sink.drops, []);
    assert.equal(sink.events[0]?.type, 'worker-heartbeat');
  });

  it('accepts a body without base64 encoding when body_encoding is absent', () => {
    const payload = JSON.stringify({ body: JSON.stringify(heartbeat), 'content-type': 'application/json', 'content-encoding': 'utf-8', headers: {}, properties: {} });
    const sink = decodeOne(payload);
    assert.deepEqual(sink.drops, []);
    assert.equal(sink.events.length, 1);
  });

  it('ignores gossip election events without counting them as drops', () => {
    const sink = decodeOne(redisEnvelope({ hostname: 'w1@h', timestamp: 1, type: 'worker-elect', id: 'x', topic: 't', action: 'a' }));
    assert.deepEqual(sink.drops, []);
    assert.deepEqual(sink.events, []);
    assert.deepEqual(sink.ignoredTypes, ['worker-elect']);
  });
});

describe('decodeRedisMessage: malformed input is dropped and counted, never thrown', () => {
  const cases: { name: string; payload: string; reason: string }[] = [
    { name: 'not JSON at all', payload: 'hello', reason: 'bad_envelope' },
    { name: 'JSON that is not an envelope', payload: '[1,2,3]', reason: 'bad_envelope' },
    { name: 'envelope without body', payload: JSON.stringify({ 'content-type': 'application/json' }), reason: 'bad_envelope' },
    { name: 'bad base64', payload: redisEnvelope(heartbeat, { body: '!!!not base64!!!' }), reason: 'bad_base64' },
    { name: 'pickle content', payload: redisEnvelope(heartbeat, { 'content-type': 'application/x-python-serialize', 'content-encoding': 'binary' }), reason: 'unsupported_content_type' },
    { name: 'yaml content', payload: redisEnvelope(heartbeat, { 'content-type': 'application/x-yaml' }), reason: 'unsupported_content_type' },
    { name: 'latin-1 content encoding', payload: redisEnvelope(heartbeat, { 'content-encoding': 'latin-1' }), reason: 'unsupported_content_encoding' },
    { name: 'bz2 compression', payload: redisEnvelope(heartbeat, { headers: { compression: 'application/x-bz2' } }), reason: 'unsupported_compression' },
    { name: 'corrupt zlib body', payload: redisEnvelope('not zlib', { headers: { compression: 'application/x-gzip' } }), reason: 'decompress_failed' },
    { name: 'body that is not JSON', payload: redisEnvelope('{"type": "worker-heartbeat",'), reason: 'bad_json' },
    { name: 'body that is a number', payload: redisEnvelope('42'), reason: 'not_an_event' },
    { name: 'event without type', payload: redisEnvelope({ hostname: 'w', timestamp: 1 }), reason: 'missing_field' },
    { name: 'event without hostname', payload: redisEnvelope({ type: 'worker-heartbeat', timestamp: 1 }), reason: 'missing_field' },
    { name: 'task event without uuid', payload: redisEnvelope({ type: 'task-started', hostname: 'w', timestamp: 1 }), reason: 'missing_field' },
    { name: 'timestamp as a string', payload: redisEnvelope({ ...heartbeat, timestamp: '1795261475' }), reason: 'wrong_type' },
    { name: 'loadavg with a string', payload: redisEnvelope({ ...heartbeat, loadavg: [1, 'x', 2] }), reason: 'wrong_type' },
    { name: 'task name as a number', payload: redisEnvelope({ ...received, name: 12 }), reason: 'wrong_type' },
    { name: 'runtime as a string', payload: redisEnvelope({ ...received, type: 'task-succeeded', runtime: 'fast' }), reason: 'wrong_type' },
    { name: 'unknown event type', payload: redisEnvelope({ ...heartbeat, type: 'cluster-exploded' }), reason: 'unknown_event_type' },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.reason}`, () => {
      const sink = decodeOne(c.payload);
      assert.deepEqual(sink.events, []);
      assert.deepEqual(sink.dropReasons(), [c.reason]);
    });
  }

  it('oversized payloads are refused before parsing', () => {
    const sink = new CollectingSink();
    decodeRedisMessage(redisEnvelope({ ...heartbeat, pad: 'x'.repeat(5000) }), NOW, sink, { maxMessageBytes: 1000 });
    assert.deepEqual(sink.dropReasons(), ['oversized']);
  });

  it('the subscriber marker for a payload discarded while reading counts as oversized, with its real size', () => {
    const sink = new CollectingSink();
    decodeRedisMessage(`${OVERSIZED_MARKER_PREFIX}11534336`, NOW, sink);
    assert.deepEqual(sink.drops, [{ reason: 'oversized', detail: 'redis message of 11534336 bytes (discarded while reading)' }]);
    // Anything else starting with NUL is just a bad envelope.
    const other = decodeOne('\u0000junk');
    assert.deepEqual(other.dropReasons(), ['bad_envelope']);
  });

  it('a zlib bomb is stopped at the size limit', () => {
    const bomb = deflateSync(Buffer.alloc(5_000_000, 0x20));
    const payload = JSON.stringify({ body: bomb.toString('base64'), 'content-type': 'application/json', headers: { compression: 'application/x-gzip' }, properties: { body_encoding: 'base64' } });
    const sink = new CollectingSink();
    decodeRedisMessage(payload, NOW, sink, { maxMessageBytes: 100_000 });
    assert.deepEqual(sink.dropReasons(), ['oversized']);
  });

  it('one bad event in a batch drops only that event', () => {
    const sink = decodeOne(redisEnvelope([received, { type: 'task-started' }, 'junk', { ...received, uuid: 'other', type: 'task-started' }]));
    assert.deepEqual(
      sink.events.map((e) => (e as TaskEvent).uuid),
      [received.uuid, 'other'],
    );
    assert.deepEqual(sink.dropReasons(), ['missing_field', 'not_an_event']);
  });

  it('survives arbitrary garbage without throwing', () => {
    const samples = [
      '',
      '{',
      'null',
      '{"body": null}',
      '{"body": "", "content-type": "application/json", "properties": {"body_encoding": "base64"}}',
      '\u0000\u0001',
      JSON.stringify({ body: 'e30=', 'content-type': 'application/json', properties: { body_encoding: 'base64' } }),
    ];
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = (i * 7919) % 200;
      for (let j = 0; j < len; j++) s += String.fromCharCode(((i + 1) * (j + 3) * 2654435761) % 127);
      samples.push(s);
    }
    for (const payload of samples) {
      const sink = new CollectingSink();
      assert.doesNotThrow(() => decodeRedisMessage(payload, NOW, sink));
      assert.equal(sink.events.length + sink.drops.length + sink.ignoredTypes.length >= 1, true, `nothing reported for ${JSON.stringify(payload)}`);
    }
  });
});

describe('decodeAmqpMessage', () => {
  it('decodes raw JSON bodies using the basic properties', () => {
    const sink = new CollectingSink();
    decodeAmqpMessage(Buffer.from(JSON.stringify([received])), { contentType: 'application/json', contentEncoding: 'utf-8', headers: { hostname: 'w1@testhost' } }, NOW, sink);
    assert.deepEqual(sink.drops, []);
    assert.equal((sink.events[0] as TaskEvent).name, 'tasks.add');
  });

  it('refuses pickle', () => {
    const sink = new CollectingSink();
    decodeAmqpMessage(Buffer.from([0x80, 0x04, 0x95]), { contentType: 'application/x-python-serialize', contentEncoding: 'binary', headers: {} }, NOW, sink);
    assert.deepEqual(sink.dropReasons(), ['unsupported_content_type']);
  });
});
