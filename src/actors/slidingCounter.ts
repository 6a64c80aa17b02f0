// Counts of events over a sliding time window, in fixed buckets so memory stays flat however many calls there are.

export class SlidingCounter {
  private readonly bucketMs: number;
  private readonly counts: Float64Array;
  private readonly starts: Float64Array;

  constructor(
    readonly windowMs: number,
    buckets = 60,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / buckets));
    // (at - window, at] can touch buckets + 1 buckets: one slot more, so the newest never overwrites one still inside.
    this.counts = new Float64Array(buckets + 1);
    this.starts = new Float64Array(buckets + 1).fill(-Infinity);
  }

  add(at: number, amount = 1): void {
    const start = Math.floor(at / this.bucketMs) * this.bucketMs;
    const index = (start / this.bucketMs) % this.counts.length;
    if (this.starts[index] !== start) {
      this.starts[index] = start;
      this.counts[index] = 0;
    }
    this.counts[index] = (this.counts[index] ?? 0) + amount;
  }

  /** The total of the buckets that overlap (at - window, at]. */
  total(at: number): number {
    const oldest = at - this.windowMs;
    let sum = 0;
    for (let index = 0; index < this.counts.length; index += 1) {
      const start = this.starts[index] ?? -Infinity;
      if (start + this.bucketMs > oldest && start <= at) sum += this.counts[index] ?? 0;
    }
    return sum;
  }
}
