// prom-client metrics whose values are read from the projections at scrape time: one definition of each figure.
import { Counter, Gauge, Histogram, type LabelValues, type Registry } from 'prom-client';
import {
  bucketOf,
  bucketUpperMs,
  countUnderBucketEdge,
  type LatencyHistogram,
} from '../../store/projections/latencyHistogram.js';

/** One series: its labels and its value now. */
export interface Sample<L extends string> {
  labels: LabelValues<L>;
  value: number;
}

interface ProjectedOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registry: Registry;
  read: () => Iterable<Sample<L>>;
}

/** The configuration a projected series shares with prom-client's own. */
function configOf<L extends string>(options: ProjectedOptions<L>) {
  return { name: options.name, help: options.help, labelNames: options.labelNames, registers: [options.registry] };
}

/** A counter set from a projection at each scrape (the projection only grows while the process lives). */
export function projectedCounter<L extends string>(options: ProjectedOptions<L>): Counter<L> {
  const { read } = options;
  return new Counter<L>({
    ...configOf(options),
    collect() {
      this.reset();
      for (const { labels, value } of read()) this.inc(labels, value);
    },
  });
}

/** A gauge set from a projection at each scrape. */
export function projectedGauge<L extends string>(options: ProjectedOptions<L>): Gauge<L> {
  const { read } = options;
  return new Gauge<L>({
    ...configOf(options),
    collect() {
      this.reset();
      for (const { labels, value } of read()) this.set(labels, value);
    },
  });
}

/** Prometheus bounds near 1, 2.5, 5, 10, 25 … ms up to 5 min, each moved down to the projection's bucket edge at or under it. */
const NOMINAL_BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 300_000];
const BOUND_BUCKETS = NOMINAL_BOUNDS_MS.map((ms) => Math.max(0, bucketOf(ms) - 1));

/**
 * The `le` bounds (seconds) of every projected histogram: edges of the projection's ±5% buckets, so the count under
 * each is exact, not interpolated. A projection bucket holds values under its edge, so `le` reads "under".
 */
export const projectedBucketBoundsSeconds: readonly number[] = BOUND_BUCKETS.map((bucket) =>
  Number((bucketUpperMs(bucket) / 1000).toPrecision(6)),
);

interface HistogramValue<L extends string> {
  labels: LabelValues<L>;
  value: number;
  metricName: string;
}

/** One labelled histogram of the projection (durations in ms). */
export interface HistogramSample<L extends string> {
  labels: LabelValues<L>;
  histogram: LatencyHistogram;
}

/**
 * A histogram whose buckets, sum and count are the projection's own (prom-client's Histogram only observes values one
 * at a time, so its output is replaced by the projection's at each scrape).
 */
export class ProjectedHistogram<L extends string> extends Histogram<L> {
  private readonly read: () => Iterable<HistogramSample<L>>;
  private readonly metricName: string;
  /** An unregistered twin, never observed: its output gives the name, help, type and aggregator. */
  private readonly twin: Histogram<L>;

  constructor(options: Omit<ProjectedOptions<L>, 'read'> & { read: () => Iterable<HistogramSample<L>> }) {
    super({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      buckets: [...projectedBucketBoundsSeconds],
      registers: [options.registry],
    });
    this.read = options.read;
    this.metricName = options.name;
    this.twin = new Histogram<L>({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [],
    });
  }

  private values(): HistogramValue<L>[] {
    const values: HistogramValue<L>[] = [];
    for (const { labels: base, histogram } of this.read()) {
      BOUND_BUCKETS.forEach((bucket, i) => {
        const le = { le: projectedBucketBoundsSeconds[i] ?? 0 };
        values.push({
          labels: { ...base, ...le },
          value: countUnderBucketEdge(histogram, bucket),
          metricName: `${this.metricName}_bucket`,
        });
      });
      const inf = { le: '+Inf' };
      values.push({ labels: { ...base, ...inf }, value: histogram.count, metricName: `${this.metricName}_bucket` });
      values.push({ labels: base, value: histogram.sumMs / 1000, metricName: `${this.metricName}_sum` });
      values.push({ labels: base, value: histogram.count, metricName: `${this.metricName}_count` });
    }
    return values;
  }

  override async get(): ReturnType<Histogram<L>['get']> {
    const empty = await this.twin.get();
    return { ...empty, values: this.values() };
  }

  /** What the registry prints from (prom-client calls it in preference to `get`). */
  async getForPromString(): ReturnType<Histogram<L>['get']> {
    return this.get();
  }
}
