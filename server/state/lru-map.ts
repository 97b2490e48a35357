/**
 * A size-bounded map that evicts the least recently used entry.
 *
 * Built on Map's insertion order: `get` re-inserts the entry at the end, eviction takes the
 * first key. That is O(1) per operation with no extra nodes, which matters at --max-tasks
 * = 100,000 and tens of thousands of updates a second.
 */
/** Kept entries one eviction may pass over (see `keep`). */
const PASS_OVER = 16;

export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  /**
   * An iterator over the keys kept across evictions. Every live key is at or after its position
   * (the ones before it were evicted, and a re-inserted key goes to the end), so it yields the
   * least recently used one. Asking a fresh iterator instead would walk every slot that earlier
   * deletes left at the front of V8's table before it is compacted: at --max-tasks 100,000 that
   * walk took 5 % of the process's CPU at 50,000 events/s (`--cpu-prof` of `npm run bench:store`).
   */
  private oldestKeys: Iterator<K> = this.map.keys();
  /** Entries pushed out because the map was full (not explicit deletes). */
  evictions = 0;

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
    /**
     * Entries to keep over others when one must go (unfinished tasks: merging and the live views
     * need them). Eviction passes over at most PASS_OVER of them, moving each to the recent end,
     * then takes the oldest anyway: a map full of such entries still stays bounded, in O(1).
     */
    private readonly keep?: (value: V) => boolean,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.map.size;
  }

  /** Read and mark as most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Read without changing recency. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    if (this.map.has(key)) this.map.delete(key);
    this.map.set(key, value);
    let passedOver = 0;
    /** The least recent of the kept entries passed over: the one to evict when all of them are. */
    let firstPassed: { key: K } | null = null;
    while (this.map.size > this.capacity) {
      let oldest = this.oldestKeys.next();
      if (oldest.done) {
        // An exhausted iterator stays exhausted: start again from the front.
        this.oldestKeys = this.map.keys();
        oldest = this.oldestKeys.next();
        if (oldest.done) break;
      }
      let key = oldest.value;
      let evicted = this.map.get(key) as V;
      if (this.keep?.(evicted)) {
        if (passedOver < PASS_OVER) {
          passedOver++;
          firstPassed ??= { key };
          this.map.delete(key);
          this.map.set(key, evicted);
          continue;
        }
        // Nothing else within reach: the least recently used goes, as without `keep`. This one
        // moves to the recent end like the others passed over, so every live key stays ahead
        // of `oldestKeys`.
        this.map.delete(key);
        this.map.set(key, evicted);
        key = (firstPassed ?? { key }).key;
        evicted = this.map.get(key) as V;
      }
      this.map.delete(key);
      this.evictions++;
      this.onEvict?.(key, evicted);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  /** Least recently used first. */
  values(): IterableIterator<V> {
    return this.map.values();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }
}
