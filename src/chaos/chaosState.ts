// `retrace chaos-proxy --state FILE`: where a proxy's dice stand (calls per tool) and when its outage clock started,
// saved after every decision and read back at start, so that a proxy restarted after a planned `crash` goes on
// where the crashed one stopped. Without it each process starts from the seed, and a crash drawn for a tool's first
// call comes back after every restart.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { ErrorCode, RetraceError } from '../common/errors.js';

export const ChaosState = z.object({
  seed: z.number().int(),
  /** The clock time the first process started at: outage windows go on counting from it. */
  startedAt: z.number(),
  callsPerTool: z.record(z.string(), z.number().int().nonnegative()),
});
export type ChaosState = z.infer<typeof ChaosState>;

/** The saved state, or undefined when the file does not exist yet; a file that is not ours, or another seed's, is refused. */
export function readChaosState(file: string, seed: number): ChaosState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RetraceError(ErrorCode.config, `--state ${file}: cannot read it: ${(error as Error).message}`);
  }
  let parsed: ChaosState;
  try {
    parsed = ChaosState.parse(JSON.parse(text));
  } catch (error) {
    const why = error instanceof z.ZodError ? (error.issues[0]?.message ?? 'not a state file') : 'not JSON';
    throw new RetraceError(ErrorCode.config, `--state ${file}: not a chaos-proxy state file (${why})`);
  }
  if (parsed.seed !== seed) {
    throw new RetraceError(
      ErrorCode.config,
      `--state ${file}: saved for seed ${parsed.seed}, the plan's seed is ${seed} (remove the file to start over)`,
    );
  }
  return parsed;
}

/** Replaces the file whole (a temporary file renamed over it): a proxy killed mid-write leaves the last state. */
export function writeChaosState(file: string, state: ChaosState): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state)}\n`);
  renameSync(`${file}.tmp`, file);
}
