import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toAmqpTable } from '../../server/broker/amqp/field-table';

describe('AMQP header tables py-amqp can read', () => {
  it('writes every integer as a signed 32-bit int (never amqplib’s guessed byte/short)', () => {
    assert.deepEqual(toAmqpTable({ clock: 5, big: 300, neg: -3 }), { clock: { '!': 'int', value: 5 }, big: { '!': 'int', value: 300 }, neg: { '!': 'int', value: -3 } });
  });
  it('uses 64-bit for integers beyond 32 bits and keeps floats, strings, nulls, nesting', () => {
    assert.deepEqual(toAmqpTable({ id: 'x', eta: null, expires: 1795261479.25, huge: 2 ** 40, timelimit: [null, 30], nested: { n: 1 } }), {
      id: 'x',
      eta: null,
      expires: 1795261479.25,
      huge: { '!': 'long', value: 2 ** 40 },
      timelimit: [null, { '!': 'int', value: 30 }],
      nested: { n: { '!': 'int', value: 1 } },
    });
  });
});
