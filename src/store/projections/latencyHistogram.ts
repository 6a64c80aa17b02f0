// A bounded, immutable latency histogram: log-scale buckets (±5%) whose means give exact percentiles for repeated values.
/** Each bucket is this much wider than the one before: ±5% precision, and one bucket per integer up to 10 ms. */
const GROWTH = 1.1;
const LOG_GROWTH = Math.log(GROWTH);
/** 1.1^200 ms is about 53 hours: anything longer shares the last bucket. */
export const MAX_BUCKET = 200;

export interface LatencyHistogram {
  readonly count: number;
  readonly sumMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** Values per bucket; bucket 0 holds values under 1 ms, bucket i ≥ 1 holds [1.1^(i-1), 1.1^i). */
  readonly counts: readonly number[];
  /** The sum of the values in each bucket, so a percentile is the mean of its bucket, not an edge. */
  readonly sums: readonly number[];
}

export const emptyHistogram: LatencyHistogram = { count: 0, sumMs: 0, minMs: 0, maxMs: 0, counts: [], sums: [] };

/** The exclusive upper edge of a bucket, in ms: bucket i holds values under 1.1^i. */
export function bucketUpperMs(bucket: number): number {
  return GROWTH ** bucket;
}

/** The values under bucket `bucket`'s upper edge: the counts of buckets 0…bucket. */
export function countUnderBucketEdge(histogram: LatencyHistogram, bucket: number): number {
  let count = 0;
  for (let i = 0; i <= bucket && i < histogram.counts.length; i += 1) count += histogram.counts[i] ?? 0;
  return count;
}

export function bucketOf(ms: number): number {
  if (!(ms >= 1)) return 0;
  return Math.min(MAX_BUCKET, 1 + Math.floor(Math.log(ms) / LOG_GROWTH + 1e-9));
}

/** The histogram with one more value; the argument is left as it was. */
export function recordLatency(histogram: LatencyHistogram, ms: number): LatencyHistogram {
  const value = Math.max(0, ms);
  const bucket = bucketOf(value);
  const counts = histogram.counts.slice();
  const sums = histogram.sums.slice();
  for (let i = counts.length; i <= bucket; i += 1) {
    counts.push(0);
    sums.push(0);
  }
  counts[bucket] = (counts[bucket] ?? 0) + 1;
  sums[bucket] = (sums[bucket] ?? 0) + value;
  return {
    count: histogram.count + 1,
    sumMs: histogram.sumMs + value,
    minMs: histogram.count === 0 ? value : Math.min(histogram.minMs, value),
    maxMs: histogram.count === 0 ? value : Math.max(histogram.maxMs, value),
    counts,
    sums,
  };
}

/** The p-th percentile (nearest rank), 0 when empty. */
export function percentile(histogram: LatencyHistogram, p: number): number {
  if (histogram.count === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * histogram.count));
  let seen = 0;
  for (let i = 0; i < histogram.counts.length; i += 1) {
    const count = histogram.counts[i] ?? 0;
    seen += count;
    if (count > 0 && seen >= rank) {
      const mean = (histogram.sums[i] ?? 0) / count;
      return Math.min(histogram.maxMs, Math.max(histogram.minMs, mean));
    }
  }
  return histogram.maxMs;
}

export interface LatencySummary {
  count: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
}

export function summarizeLatency(histogram: LatencyHistogram): LatencySummary {
  return {
    count: histogram.count,
    minMs: histogram.minMs,
    maxMs: histogram.maxMs,
    meanMs: histogram.count === 0 ? 0 : histogram.sumMs / histogram.count,
    p50Ms: percentile(histogram, 50),
    p95Ms: percentile(histogram, 95),
    p99Ms: percentile(histogram, 99),
  };
}
