// Worst-case durations under the policies: fixed milliseconds, per-item terms for loops of unknown length, or unbounded.
import { formatDurationMs } from '../common/duration.js';

export interface WorstCase {
  /** The bounded part, in milliseconds. */
  fixedMs: number;
  /** Loops whose item count is unknown until run: each adds ⌈count / concurrency⌉ × `perRoundMs`. */
  perItem: Array<{ items: string; concurrency: number; perRoundMs: number }>;
  /** Why no bound exists (e.g. a shell command without a timeout); empty when bounded. */
  unbounded: string[];
}

export const ZERO: WorstCase = { fixedMs: 0, perItem: [], unbounded: [] };

export function fixed(ms: number): WorstCase {
  return { fixedMs: ms, perItem: [], unbounded: [] };
}

export function unbounded(reason: string): WorstCase {
  return { fixedMs: 0, perItem: [], unbounded: [reason] };
}

export function isFixed(worst: WorstCase): boolean {
  return worst.perItem.length === 0 && worst.unbounded.length === 0;
}

export function add(...cases: WorstCase[]): WorstCase {
  return {
    fixedMs: cases.reduce((sum, item) => sum + item.fixedMs, 0),
    perItem: cases.flatMap((item) => item.perItem),
    unbounded: cases.flatMap((item) => item.unbounded),
  };
}

export function times(worst: WorstCase, count: number): WorstCase {
  return {
    fixedMs: worst.fixedMs * count,
    perItem: worst.perItem.map((term) => ({ ...term, perRoundMs: term.perRoundMs * count })),
    unbounded: worst.unbounded,
  };
}

/** The longer of alternatives; when either is not a plain number, their sum (an upper bound still). */
export function longest(cases: WorstCase[]): WorstCase {
  if (cases.every(isFixed)) return fixed(Math.max(0, ...cases.map((item) => item.fixedMs)));
  return add(...cases);
}

/** A timeout bounds whatever it covers, even what is otherwise unbounded. */
export function capped(worst: WorstCase, capMs: number | undefined): WorstCase {
  if (capMs === undefined) return worst;
  return isFixed(worst) && worst.fixedMs <= capMs ? worst : fixed(capMs);
}

/** Branches run `concurrency` at a time: with fewer slots than branches, greedy scheduling ends by sum / slots + longest. */
export function concurrent(cases: WorstCase[], concurrency: number | undefined): WorstCase {
  const slots = concurrency ?? cases.length;
  if (slots >= cases.length) return longest(cases);
  if (!cases.every(isFixed)) return add(...cases);
  const sum = cases.reduce((total, item) => total + item.fixedMs, 0);
  const max = Math.max(0, ...cases.map((item) => item.fixedMs));
  return fixed(Math.min(sum, sum / slots + max));
}

export function formatWorstCase(worst: WorstCase): string {
  if (worst.unbounded.length > 0) return `unbounded (${[...new Set(worst.unbounded)].join('; ')})`;
  const terms: string[] = [];
  if (worst.fixedMs > 0 || worst.perItem.length === 0) terms.push(formatDurationMs(worst.fixedMs));
  for (const term of worst.perItem) {
    const rounds = term.concurrency > 1 ? `⌈count(${term.items}) / ${term.concurrency}⌉` : `count(${term.items})`;
    terms.push(`${rounds} × ${formatDurationMs(term.perRoundMs)}`);
  }
  return terms.join(' + ');
}
