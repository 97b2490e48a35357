/**
 * Histograms of durations (seconds) that merge exactly by addition: every histogram has the same
 * fixed, log-spaced bucket bounds, so the sum of two minutes' buckets is the histogram of the two
 * minutes together, and a percentile read from merged buckets is as good as one read from either.
 *
 * Bucket 0 holds [0, 1 ms); bucket i (1 … 216) holds [1 ms·2^((i−1)/8), 1 ms·2^(i/8)); the last
 * holds everything from 2^27 ms (37 h) up. Eight buckets per doubling: a percentile is answered as
 * the geometric middle of its bucket, at most 2^(1/16) − 1 ≈ 4.4 % from the exact value.
 */

/** The lower bound of bucket 1, in seconds. */
const MIN_SECONDS = 0.001;
const PER_DOUBLING = 8;
const DOUBLINGS = 27;

/** Buckets per histogram: underflow, the log-spaced ones, overflow. */
export const HISTOGRAM_BUCKETS = 1 + PER_DOUBLING * DOUBLINGS + 1;

/** The bucket a duration falls in (negative and non-finite values count as 0). */
export function bucketOf(seconds: number): number {
  if (!(seconds >= MIN_SECONDS)) return 0;
  const index = 1 + Math.floor(Math.log2(seconds / MIN_SECONDS) * PER_DOUBLING);
  return index >= HISTOGRAM_BUCKETS ? HISTOGRAM_BUCKETS - 1 : index;
}

/** The bounds [lower, upper) of a bucket, in seconds (the overflow bucket's upper bound is Infinity). */
export function bucketBounds(bucket: number): [number, number] {
  if (bucket <= 0) return [0, MIN_SECONDS];
  const lower = MIN_SECONDS * 2 ** ((bucket - 1) / PER_DOUBLING);
  if (bucket >= HISTOGRAM_BUCKETS - 1) return [lower, Number.POSITIVE_INFINITY];
  return [lower, MIN_SECONDS * 2 ** (bucket / PER_DOUBLING)];
}

/** What a bucket stands for in a percentile: its geometric middle (the underflow's is half of 1 ms; the overflow's its lower bound). */
function representative(bucket: number): number {
  const [lower, upper] = bucketBounds(bucket);
  if (bucket <= 0) return MIN_SECONDS / 2;
  if (!Number.isFinite(upper)) return lower;
  return Math.sqrt(lower * upper);
}

/** Sparse counts by bucket, as read back from the store (bucket → count). */
export type BucketCounts = ReadonlyMap<number, number>;

/**
 * The q-quantile (0 < q ≤ 1) of the merged counts by nearest rank (the value at rank ⌈q·n⌉, as
 * an exact percentile of the samples would be), or null when there are none.
 */
export function percentile(counts: BucketCounts, q: number): number | null {
  let total = 0;
  for (const count of counts.values()) total += count;
  if (total <= 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  const ordered = [...counts.entries()].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [bucket, count] of ordered) {
    seen += count;
    if (seen >= rank) return representative(bucket);
  }
  const last = ordered[ordered.length - 1];
  return last ? representative(last[0]) : null;
}

/** p50, p95 and p99 of merged counts (each null when there are no samples). */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export function percentiles(counts: BucketCounts): Percentiles {
  return { p50: percentile(counts, 0.5), p95: percentile(counts, 0.95), p99: percentile(counts, 0.99) };
}
