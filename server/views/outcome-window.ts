/**
 * Task outcomes of the last few minutes, for the overview: how many finished and failed, the
 * failing task names and exception classes, and runtime percentiles.
 *
 * Kept in fixed-length time buckets, each with counts and a bounded sample of runtimes, so that
 * adding an outcome and reading the window both cost the same whatever the task rate. (A list of
 * every outcome, trimmed from the front, cost a 100,000-element move per finished task and most
 * of a core at 5,000 tasks/s: `npm run bench:soak`.)
 */

/** Runtimes kept per bucket: percentiles are exact below this many tasks per bucket, sampled above. */
export const RUNTIME_SAMPLES_PER_BUCKET = 1_000;
/** Distinct task names and exception classes counted per bucket (a flood of unique names is bounded). */
const MAX_KEYS_PER_BUCKET = 1_000;

interface Bucket {
  t: number;
  finished: number;
  failed: number;
  failingTasks: Map<string, number>;
  exceptions: Map<string, number>;
  /** Uniform sample (reservoir) of the runtimes of tasks that succeeded in this bucket. */
  runtimes: number[];
  runtimesSeen: number;
}

export interface OutcomeSummary {
  finished: number;
  failed: number;
  runtime: { p50: number | null; p95: number | null; p99: number | null; count: number };
  topFailing: { name: string; count: number }[];
  topExceptions: { exception: string; count: number }[];
}

export class OutcomeWindow {
  private readonly buckets: Bucket[] = [];

  constructor(
    private readonly windowSeconds: number,
    private readonly bucketSeconds: number,
  ) {}

  /** One finished task: `exception` is set for a failure, `runtime` for a success that reported one. */
  add(at: number, name: string, exception: string | null, runtime: number | null): void {
    const bucket = this.bucketAt(at);
    if (!bucket) return;
    bucket.finished++;
    if (exception !== null) {
      bucket.failed++;
      bump(bucket.failingTasks, name);
      bump(bucket.exceptions, exception);
    } else if (runtime !== null) {
      const seen = ++bucket.runtimesSeen;
      if (bucket.runtimes.length < RUNTIME_SAMPLES_PER_BUCKET) bucket.runtimes.push(runtime);
      else {
        const slot = Math.floor(Math.random() * seen);
        if (slot < RUNTIME_SAMPLES_PER_BUCKET) bucket.runtimes[slot] = runtime;
      }
    }
  }

  /** What finished within the window before `now`. */
  summary(now: number): OutcomeSummary {
    this.prune(now);
    let finished = 0;
    let failed = 0;
    let count = 0;
    const failingTasks = new Map<string, number>();
    const exceptions = new Map<string, number>();
    const weighted: { value: number; weight: number }[] = [];
    for (const bucket of this.buckets) {
      finished += bucket.finished;
      failed += bucket.failed;
      count += bucket.runtimesSeen;
      for (const [name, n] of bucket.failingTasks) bump(failingTasks, name, n);
      for (const [exception, n] of bucket.exceptions) bump(exceptions, exception, n);
      // Each sampled runtime stands for seen / kept runtimes of its bucket.
      const weight = bucket.runtimesSeen / Math.max(1, bucket.runtimes.length);
      for (const value of bucket.runtimes) weighted.push({ value, weight });
    }
    weighted.sort((a, b) => a.value - b.value);
    const total = weighted.reduce((sum, w) => sum + w.weight, 0);
    return {
      finished,
      failed,
      runtime: { p50: quantile(weighted, total, 0.5), p95: quantile(weighted, total, 0.95), p99: quantile(weighted, total, 0.99), count },
      topFailing: top(failingTasks).map(([name, n]) => ({ name, count: n })),
      topExceptions: top(exceptions).map(([exception, n]) => ({ exception, count: n })),
    };
  }

  private bucketAt(at: number): Bucket | null {
    const t = Math.floor(at / this.bucketSeconds) * this.bucketSeconds;
    // Outcomes arrive in receive order: the newest bucket, rarely an earlier one.
    for (let i = this.buckets.length - 1; i >= 0; i--) {
      const bucket = this.buckets[i] as Bucket;
      if (bucket.t === t) return bucket;
      if (bucket.t < t) break;
    }
    const newest = this.buckets[this.buckets.length - 1];
    if (newest && t < newest.t) return null; // older than every bucket kept: outside the window
    const bucket: Bucket = { t, finished: 0, failed: 0, failingTasks: new Map(), exceptions: new Map(), runtimes: [], runtimesSeen: 0 };
    this.buckets.push(bucket);
    this.prune(t);
    return bucket;
  }

  private prune(now: number): void {
    const oldest = now - this.windowSeconds;
    let drop = 0;
    while (drop < this.buckets.length && (this.buckets[drop] as Bucket).t + this.bucketSeconds <= oldest) drop++;
    if (drop > 0) this.buckets.splice(0, drop);
  }
}

function bump(counts: Map<string, number>, key: string, by = 1): void {
  const known = counts.get(key);
  if (known !== undefined) counts.set(key, known + by);
  else if (counts.size < MAX_KEYS_PER_BUCKET) counts.set(key, by);
}

function top(counts: Map<string, number>): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 10);
}

/** The first value whose cumulative weight passes q of the total (exact on unweighted data). */
function quantile(sorted: readonly { value: number; weight: number }[], total: number, q: number): number | null {
  if (sorted.length === 0) return null;
  let cumulative = 0;
  for (const { value, weight } of sorted) {
    cumulative += weight;
    if (cumulative > q * total) return value;
  }
  return (sorted[sorted.length - 1] as { value: number }).value;
}
