// One measured figure, the baseline it is read against, and the target it must meet.

export type Unit = 'µs' | 'ms' | 's' | 'calls/s' | 'steps/s' | 'KB' | 'B' | '%' | 'count';

/** What a figure must reach: an absolute bound, or a bound on its ratio to the baseline. */
export type Target = { atMost: number } | { atLeast: number } | { ratioAtMost: number } | { ratioAtLeast: number };

export interface Baseline {
  name: string;
  value: number;
}

export interface Figure {
  benchmark: string;
  name: string;
  value: number;
  unit: Unit;
  baseline?: Baseline;
  /** `value / baseline.value`. */
  ratio?: number;
  target?: { text: string; pass: boolean };
}

export interface BenchReport {
  benchmark: string;
  figures: Figure[];
  /** Raw summaries behind the figures, for the JSON output. */
  details: Record<string, unknown>;
}

export interface BenchOptions {
  long: boolean;
}

function describe(target: Target, unit: Unit): string {
  if ('atMost' in target) return `≤ ${target.atMost} ${unit}`;
  if ('atLeast' in target) return `≥ ${target.atLeast} ${unit}`;
  if ('ratioAtMost' in target) return `≤ ${target.ratioAtMost}× baseline`;
  return `≥ ${Math.round(target.ratioAtLeast * 100)}% of baseline`;
}

function meets(target: Target, value: number, ratio: number | undefined): boolean {
  if ('atMost' in target) return value <= target.atMost;
  if ('atLeast' in target) return value >= target.atLeast;
  if (ratio === undefined || !Number.isFinite(ratio)) return false;
  return 'ratioAtMost' in target ? ratio <= target.ratioAtMost : ratio >= target.ratioAtLeast;
}

/** Builds the figures of one benchmark, each with its ratio and pass/miss worked out. */
export function figuresOf(benchmark: string) {
  return (name: string, value: number, unit: Unit, options: { baseline?: Baseline; target?: Target } = {}): Figure => {
    const figure: Figure = { benchmark, name, value, unit };
    const { baseline, target } = options;
    if (baseline) {
      figure.baseline = baseline;
      figure.ratio = value / baseline.value;
    }
    if (target) figure.target = { text: describe(target, unit), pass: meets(target, value, figure.ratio) };
    return figure;
  };
}
