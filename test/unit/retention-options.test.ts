/**
 * The store's options: ages (`90m`, `12h`, `7d`, `0` for forever), sizes (`500MB`, `2GiB`) and
 * time limits (`500ms`, `30s`, `0` for none) parsed into seconds, bytes and milliseconds, their
 * defaults, their environment names, and one clear line for anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig, type Config } from '../../server/config/config';
import { parseAge, parseSize, parseTimeLimitMs, QuantityError } from '../../server/config/quantities';

function config(argv: string[], env: Record<string, string> = {}): Config {
  const result = parseConfig(argv, env);
  if (result.kind !== 'config') throw new Error(`expected a config, got exit ${result.code}: ${result.output}`);
  return result.config;
}

function failure(argv: string[]): string {
  const result = parseConfig(argv, {});
  if (result.kind !== 'exit') throw new Error('expected an error');
  assert.equal(result.code, 2);
  assert.equal(result.output.trim().split('\n').length, 1, result.output);
  return result.output;
}

/** Each of `bads` is refused with a QuantityError whose message starts with `prefix`. */
function assertRefused(parse: (text: string, option: string) => unknown, option: string, bads: readonly string[], prefix: string): void {
  for (const bad of bads) {
    assert.throws(
      () => parse(bad, option),
      (error: unknown) => error instanceof QuantityError && error.message.startsWith(prefix),
      bad,
    );
  }
}

describe('ages', () => {
  it('reads seconds, minutes, hours, days and weeks', () => {
    assert.equal(parseAge('30s', '--x'), 30);
    assert.equal(parseAge('90m', '--x'), 5_400);
    assert.equal(parseAge('12h', '--x'), 43_200);
    assert.equal(parseAge('7d', '--x'), 604_800);
    assert.equal(parseAge('2w', '--x'), 1_209_600);
    assert.equal(parseAge('1.5h', '--x'), 5_400);
    assert.equal(parseAge(' 7D ', '--x'), 604_800);
  });

  it('0 keeps forever, with or without a unit', () => {
    assert.equal(parseAge('0', '--x'), 0);
    assert.equal(parseAge('0d', '--x'), 0);
  });

  it('refuses anything else, naming the option and the accepted forms', () => {
    assertRefused(parseAge, '--retention', ['', '7', 'd', '7 days', '7y', '-1d', '1e3s', 'forever', '7d12h'], '--retention must be an age such as 90m, 12h, 7d');
  });
});

describe('sizes', () => {
  it('reads SI and binary units', () => {
    assert.equal(parseSize('500MB', '--x'), 500_000_000);
    assert.equal(parseSize('10GB', '--x'), 10_000_000_000);
    assert.equal(parseSize('2GiB', '--x'), 2 * 2 ** 30);
    assert.equal(parseSize('64 kib', '--x'), 65_536);
    assert.equal(parseSize('4096B', '--x'), 4_096);
    assert.equal(parseSize('1.5TB', '--x'), 1.5e12);
  });

  it('none and 0 mean no cap', () => {
    assert.equal(parseSize('none', '--x'), null);
    assert.equal(parseSize('0', '--x'), null);
  });

  it('refuses anything else', () => {
    assertRefused(parseSize, '--store-max-size', ['500', 'MB', '500 megabytes', '-5MB', '5PB', 'big'], '--store-max-size must be a size such as 500MB');
  });
});

describe('time limits', () => {
  it('reads milliseconds, seconds and minutes; 0 is no limit', () => {
    assert.equal(parseTimeLimitMs('500ms', '--x'), 500);
    assert.equal(parseTimeLimitMs('30s', '--x'), 30_000);
    assert.equal(parseTimeLimitMs('1.5s', '--x'), 1_500);
    assert.equal(parseTimeLimitMs('2m', '--x'), 120_000);
    assert.equal(parseTimeLimitMs('0', '--x'), 0);
    assert.equal(parseTimeLimitMs('0s', '--x'), 0);
    assert.equal(parseTimeLimitMs('0.1ms', '--x'), 1, 'never rounded down to "no limit"');
  });

  it('refuses anything else', () => {
    assertRefused(parseTimeLimitMs, '--store-read-timeout', ['', '30', 's', '30 seconds', '1h', '-1s', 'never'], '--store-read-timeout must be a time such as 500ms, 30s');
  });
});

describe('retention options', () => {
  it('default to 7 days for tasks, 30 for failures, 90 for aggregates, no size cap', () => {
    const c = config([]);
    assert.deepEqual(c.retention, { tasksSeconds: 7 * 86_400, failedSeconds: 30 * 86_400, aggregatesSeconds: 90 * 86_400, maxSizeBytes: null });
    assert.equal(c.storeMaxPending, 200_000);
    assert.equal(c.storeReadTimeoutMs, 30_000);
  });

  it('come from the command line and CELERIAC_* variables', () => {
    const c = config(['--retention', '12h', '--store-max-size', '500MB'], { CELERIAC_RETENTION_FAILED: '0', CELERIAC_RETENTION_AGGREGATES: '2w', CELERIAC_STORE_MAX_PENDING: '1000' });
    assert.deepEqual(c.retention, { tasksSeconds: 43_200, failedSeconds: 0, aggregatesSeconds: 1_209_600, maxSizeBytes: 500_000_000 });
    assert.equal(c.storeMaxPending, 1_000);
    assert.equal(config(['--store-read-timeout', '2s']).storeReadTimeoutMs, 2_000);
    assert.equal(config([], { CELERIAC_STORE_READ_TIMEOUT: '0' }).storeReadTimeoutMs, 0);
  });

  it('a bad value exits 2 with one line', () => {
    assert.match(failure(['--retention', '7 days']), /^celeriac: --retention must be an age/);
    assert.match(failure(['--retention-failed', '1y']), /^celeriac: --retention-failed must be an age/);
    assert.match(failure(['--retention-aggregates', 'x']), /^celeriac: --retention-aggregates must be an age/);
    assert.match(failure(['--store-max-size', '500']), /^celeriac: --store-max-size must be a size/);
    assert.match(failure(['--store-max-pending', '0']), /^celeriac: --store-max-pending/);
    assert.match(failure(['--store-read-timeout', '30']), /^celeriac: --store-read-timeout must be a time/);
  });
});
