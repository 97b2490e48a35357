import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LruMap } from '../../server/state/lru-map';

/**
 * The same rules on an array in recency order (least recent first): what LruMap must do, without
 * the iterator it keeps across evictions (server/state/lru-map.ts).
 */
class ReferenceLru {
  order: number[] = [];
  readonly values = new Map<number, boolean>();
  evicted: number[] = [];

  constructor(
    private readonly capacity: number,
    private readonly passOver: number,
  ) {}

  private touch(key: number): void {
    const at = this.order.indexOf(key);
    if (at !== -1) this.order.splice(at, 1);
    this.order.push(key);
  }

  get(key: number): boolean | undefined {
    const value = this.values.get(key);
    if (value !== undefined) this.touch(key);
    return value;
  }

  set(key: number, kept: boolean): void {
    this.values.set(key, kept);
    this.touch(key);
    let passed = 0;
    let firstPassed: number | null = null;
    while (this.order.length > this.capacity) {
      let key = this.order[0] as number;
      if (this.values.get(key) === true) {
        this.touch(key);
        if (passed < this.passOver) {
          passed++;
          firstPassed ??= key;
          continue;
        }
        key = firstPassed ?? key;
      }
      this.order.splice(this.order.indexOf(key), 1);
      this.values.delete(key);
      this.evicted.push(key);
    }
  }

  delete(key: number): void {
    const at = this.order.indexOf(key);
    if (at !== -1) this.order.splice(at, 1);
    this.values.delete(key);
  }
}

/** A small deterministic generator: the same run every time. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

describe('LruMap', () => {
  it('evicts exactly as the reference rules do through long churn, kept entries, reads and deletes', () => {
    // Enough operations that V8 compacts the map's table many times under the kept iterator.
    const capacity = 50;
    const evicted: number[] = [];
    const map = new LruMap<number, boolean>(
      capacity,
      (key) => evicted.push(key),
      (kept) => kept,
    );
    const reference = new ReferenceLru(capacity, 16);
    const next = random(7);
    let key = 0;
    for (let step = 0; step < 40_000; step++) {
      const roll = next();
      if (roll < 0.45) {
        const kept = next() < 0.3;
        map.set(key, kept);
        reference.set(key, kept);
        key++;
      } else if (roll < 0.8) {
        const existing = Math.max(0, key - 1 - Math.floor(next() * 80));
        assert.equal(map.get(existing), reference.get(existing));
      } else if (roll < 0.9) {
        // An update of an entry already there (a task finishing): its value changes, it becomes recent.
        const existing = Math.max(0, key - 1 - Math.floor(next() * 60));
        if (reference.values.has(existing)) {
          map.set(existing, false);
          reference.set(existing, false);
        }
      } else {
        const existing = Math.max(0, key - 1 - Math.floor(next() * 60));
        map.delete(existing);
        reference.delete(existing);
      }
      assert.equal(map.size, reference.order.length);
    }
    assert.deepEqual(evicted, reference.evicted);
    assert.deepEqual([...map.keys()], reference.order);
    assert.equal(map.evictions, reference.evicted.length);
  });

  it('goes on evicting the least recent after the map was emptied and filled again', () => {
    const evicted: string[] = [];
    const map = new LruMap<string, number>(2, (key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    map.delete('b');
    map.delete('c');
    map.set('d', 4);
    map.set('e', 5);
    map.get('d');
    map.set('f', 6);
    assert.deepEqual(evicted, ['a', 'e']);
    assert.deepEqual([...map.keys()], ['d', 'f']);
  });

  it('stays bounded when every entry is one to keep', () => {
    const map = new LruMap<number, boolean>(10, undefined, () => true);
    for (let key = 0; key < 1_000; key++) map.set(key, true);
    assert.equal(map.size, 10);
  });
});
