/**
 * The subscriber's streaming RESP scanner: for every way the socket could cut the bytes into
 * chunks, ioredis must receive exactly the original stream with each oversized pub/sub payload
 * replaced by a marker — and none of that payload's bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markerFor, RespScanner } from '../../server/broker/redis/resp-scanner';
import { oversizedMarkerBytes } from '../../server/protocol/decode';

const LIMIT = 64;

const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
/** A pub/sub message as RESP text: RESP2 array (`*`) or RESP3 push (`>`). */
const pmessage = (payload: string, head = '*'): string => `${head}4\r\n${bulk('pmessage')}${bulk('/0.celeryev/*')}${bulk('/0.celeryev/task.sent')}${bulk(payload)}`;
const message = (payload: string, kind = 'message', head = '*'): string => `${head}3\r\n${bulk(kind)}${bulk('/0.celeryev')}${bulk(payload)}`;
/** The same messages without their payload element (followed by a `big()` part). */
const pmessageHead = (head = '*'): string => pmessage('', head).slice(0, -bulk('').length);
const messageHead = (kind = 'message', head = '*'): string => message('', kind, head).slice(0, -bulk('').length);

/** A stream as parts: plain RESP text, or an oversized payload element that must become a marker. */
type Part = string | { oversized: string };
const big = (bytes: number, fill = 'Z'): { oversized: string } => ({ oversized: fill.repeat(bytes) });

function input(parts: Part[]): Buffer {
  return Buffer.from(parts.map((p) => (typeof p === 'string' ? p : bulk(p.oversized))).join(''), 'latin1');
}
function expected(parts: Part[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : markerFor(Buffer.byteLength(p.oversized)))));
}

function scan(chunks: Buffer[]): { out: Buffer; pieces: Buffer[]; scanner: RespScanner } {
  const pieces: Buffer[] = [];
  const scanner = new RespScanner(LIMIT, (b) => pieces.push(Buffer.from(b)));
  for (const chunk of chunks) scanner.write(chunk);
  return { out: Buffer.concat(pieces), pieces, scanner };
}

/** Every split into two chunks, every split into three (for short inputs), and one byte at a time. */
function* splits(bytes: Buffer): Generator<Buffer[]> {
  yield [bytes];
  for (let a = 1; a < bytes.length; a++) yield [bytes.subarray(0, a), bytes.subarray(a)];
  if (bytes.length <= 400) {
    for (let a = 1; a < bytes.length; a++) for (let b = a + 1; b < bytes.length; b++) yield [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)];
  }
  yield [...bytes].map((byte) => Buffer.from([byte]));
}

function checkAllSplits(parts: Part[], oversizedCount: number): void {
  const bytes = input(parts);
  const want = expected(parts);
  let n = 0;
  for (const chunks of splits(bytes)) {
    const { out, scanner } = scan(chunks);
    if (!out.equals(want)) {
      assert.fail(`split at ${chunks.map((c) => c.length).join('+')}:\n got  ${JSON.stringify(out.toString('latin1'))}\n want ${JSON.stringify(want.toString('latin1'))}`);
    }
    assert.equal(scanner.oversized, oversizedCount);
    assert.equal(scanner.bypassed, false);
    n++;
  }
  assert.ok(n > 2);
}

describe('RespScanner', () => {
  it('forwards ordinary RESP2 subscriber traffic unchanged, as the same chunks', () => {
    const text = `*3\r\n${bulk('psubscribe')}${bulk('/0.celeryev/*')}:1\r\n${pmessage('{"body": "e30="}')}${message('x')}+PONG\r\n`;
    checkAllSplits([text], 0);
    const chunk = Buffer.from(text);
    const { pieces } = scan([chunk]);
    assert.equal(pieces.length, 1, 'one chunk in, one chunk out');
  });

  it('replaces oversized pmessage/message/smessage payloads (RESP2 and RESP3 push) by a marker', () => {
    checkAllSplits([pmessage('small'), pmessageHead(), big(LIMIT + 1), pmessage('after')], 1);
    checkAllSplits([messageHead(), big(200), messageHead('smessage', '>'), big(LIMIT + 7), '+OK\r\n'], 2);
    checkAllSplits([pmessageHead('>'), big(500), pmessageHead('>'), big(65), pmessageHead('>'), big(1000), pmessage('last', '>')], 3);
  });

  it('keeps a payload of exactly the limit, and empty and null payloads', () => {
    checkAllSplits([pmessage('y'.repeat(LIMIT)), pmessage(''), `*4\r\n${bulk('pmessage')}${bulk('p')}${bulk('c')}$-1\r\n`, pmessage('z')], 0);
  });

  it('only touches the payload of a pub/sub message: not replies, channels, other arrays or nested values', () => {
    const long = 'L'.repeat(300);
    checkAllSplits(
      [
        bulk(long), // a long top-level reply (e.g. INFO)
        `*2\r\n${bulk(long)}${bulk(long)}`, // a long array reply
        `*4\r\n${bulk('message')}${bulk('a')}${bulk('b')}${bulk(long)}`, // "message" needs 3 elements
        `*3\r\n${bulk('pmessage')}${bulk('a')}${bulk(long)}`, // "pmessage" needs 4
        `*4\r\n${bulk('pmessage')}${bulk(long)}${bulk('c')}${bulk('ok')}`, // long pattern
        `*4\r\n${bulk('pmessage')}${bulk('p')}${bulk('c')}*1\r\n${bulk(long)}`, // nested, not a bulk payload
        `*3\r\n*1\r\n${bulk('message')}${bulk('c')}${bulk(long)}`, // first element is an array
        `*3\r\n${bulk('messagex')}${bulk('c')}${bulk(long)}`,
      ],
      0,
    );
  });

  it('follows every RESP3 type (HELLO reply, maps, sets, doubles, verbatim, errors, nulls)', () => {
    const hello = `%7\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk('7.0.15')}${bulk('proto')}:3\r\n${bulk('id')}:5\r\n${bulk('mode')}${bulk('standalone')}${bulk('role')}${bulk('master')}${bulk('modules')}*0\r\n`;
    const misc = `_\r\n#t\r\n,3.14\r\n(12345678901234567890\r\n~2\r\n:1\r\n:2\r\n=15\r\ntxt:Some string\r\n!21\r\nSYNTAX invalid syntax\r\n-ERR unknown\r\n*-1\r\n%0\r\n>0\r\n`;
    checkAllSplits([hello, misc, pmessageHead('>'), big(99), `>3\r\n${bulk('psubscribe')}${bulk('x')}:2\r\n`], 1);
  });

  it('never forwards a byte of a discarded payload, and forwards the real size', () => {
    const size = 5 * 1024 * 1024;
    const bytes = input([pmessage('a'), pmessageHead(), big(size, 'Q'), pmessage('b')]);
    const chunks: Buffer[] = [];
    for (let o = 0; o < bytes.length; o += 65536) chunks.push(bytes.subarray(o, o + 65536));
    const { out, scanner } = scan(chunks);
    assert.equal(out.indexOf('QQ'), -1);
    assert.equal(scanner.oversized, 1);
    assert.ok(out.length < 1000);
    const marker = out
      .toString('latin1')
      .split('\r\n')
      .find((line) => line.startsWith('\u0000'));
    assert.equal(oversizedMarkerBytes(marker ?? ''), size);
  });

  it('stops interpreting (forwards everything unchanged) on what it cannot follow', () => {
    for (const odd of [`|1\r\n${bulk('ttl')}:3\r\n${pmessage('x')}`, `$?\r\n;4\r\nabcd\r\n;0\r\n`, `$12x\r\n`, 'HTTP/1.1 400\r\n']) {
      const tail = pmessageHead() + bulk('Z'.repeat(300));
      const bytes = Buffer.from(odd + tail, 'latin1');
      for (const chunks of splits(bytes)) {
        const { out, scanner } = scan(chunks);
        assert.ok(out.equals(bytes), `${JSON.stringify(odd)} split ${chunks.map((c) => c.length).join('+')}`);
        assert.equal(scanner.bypassed, true);
      }
    }
  });

  it('recognises only its own marker', () => {
    assert.equal(oversizedMarkerBytes('\u0000celeriac:oversized:11534336'), 11534336);
    assert.equal(oversizedMarkerBytes('{"body": ""}'), null);
    assert.equal(oversizedMarkerBytes('\u0000celeriac:oversized:x'), null);
    assert.equal(oversizedMarkerBytes(''), null);
  });
});
