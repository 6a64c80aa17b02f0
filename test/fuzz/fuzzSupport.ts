// Shared settings of the fuzz suites: a seed per run (printed by fast-check on failure), replayable from the environment.
import fc from 'fast-check';

/**
 * `RETRACE_FUZZ_SEED` (and `RETRACE_FUZZ_PATH`, both printed by fast-check with a counterexample) replay a failure;
 * `RETRACE_FUZZ_SCALE` multiplies every suite's number of runs (e.g. 20 for a long session). Without a seed each run
 * explores new inputs.
 */
export function fuzzParameters<T>(numRuns: number, extra: fc.Parameters<T> = {}): fc.Parameters<T> {
  const seedText = process.env['RETRACE_FUZZ_SEED'];
  const path = process.env['RETRACE_FUZZ_PATH'];
  const scale = Number(process.env['RETRACE_FUZZ_SCALE'] ?? '1');
  const seed = seedText === undefined ? (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0 : Number(seedText);
  if (!Number.isInteger(seed)) throw new Error(`RETRACE_FUZZ_SEED must be an integer, not ${String(seedText)}`);
  if (!Number.isFinite(scale) || scale <= 0) throw new Error(`RETRACE_FUZZ_SCALE must be a positive number`);
  return {
    seed,
    numRuns: Math.max(1, Math.round(numRuns * scale)),
    ...(path === undefined ? {} : { path }),
    ...extra,
  };
}

/** Edits applied to a text or byte string at relative positions (so one plan fits any length). */
export type Edit =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'replace'; at: number; text: string };

export const textEdits = (maxEdits = 4): fc.Arbitrary<Edit[]> =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        text: fc.oneof(
          fc.string({ maxLength: 8 }),
          fc.constantFrom('\n', ':', '- ', '  ', '{{', '}}', '"', "'", '#', '&a', '*a', '!!', '[', '{', '\t', '? '),
        ),
      }),
      fc.record({
        kind: fc.constant('delete' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        length: fc.integer({ min: 1, max: 16 }),
      }),
      fc.record({
        kind: fc.constant('replace' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        text: fc.string({ minLength: 1, maxLength: 4, unit: 'binary' }),
      }),
    ),
    { maxLength: maxEdits },
  );

export function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const edit of edits) {
    const at = Math.floor(edit.at * out.length);
    if (edit.kind === 'insert') out = out.slice(0, at) + edit.text + out.slice(at);
    else if (edit.kind === 'delete') out = out.slice(0, at) + out.slice(at + edit.length);
    else out = out.slice(0, at) + edit.text + out.slice(at + edit.text.length);
  }
  return out;
}

/** A test's time limit, scaled like its runs (`RETRACE_FUZZ_SCALE`), so a long session is not cut short. */
export function fuzzTimeout(ms: number): number {
  const scale = Number(process.env['RETRACE_FUZZ_SCALE'] ?? '1');
  return Math.round(ms * Math.max(1, Number.isFinite(scale) ? scale : 1));
}
