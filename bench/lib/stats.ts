// Summaries of per-call timings: percentiles by nearest rank, mean and throughput, all in microseconds.

export interface TimingSummary {
  calls: number;
  meanUs: number;
  p50Us: number;
  p90Us: number;
  p99Us: number;
  minUs: number;
  maxUs: number;
}

/** The nearest-rank percentile of values sorted ascending (`fraction` in [0, 1]). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export function summarize(samplesUs: readonly number[]): TimingSummary {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    calls: sorted.length,
    meanUs: sorted.length === 0 ? Number.NaN : total / sorted.length,
    p50Us: percentile(sorted, 0.5),
    p90Us: percentile(sorted, 0.9),
    p99Us: percentile(sorted, 0.99),
    minUs: sorted[0] ?? Number.NaN,
    maxUs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/** Calls per second of a run of `calls` calls that took `elapsedUs` of wall time. */
export function callsPerSecond(calls: number, elapsedUs: number): number {
  return elapsedUs > 0 ? (calls * 1e6) / elapsedUs : Number.NaN;
}
