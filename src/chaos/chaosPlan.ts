// The chaos proxy's plan: a seed, fault rules tried in order on each tools/call, and outage windows; read from
// YAML (or JSON) with every problem reported as `file:line:col path: message`.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Duration } from '../common/duration.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { validate } from '../config/validate.js';
import { SourceProblemsError, locate, parseYaml, type SourceProblem } from '../config/yamlErrors.js';

export const ChaosKind = z.enum([
  'timeout',
  'latency',
  'unavailable',
  'lock',
  'rate_limit',
  'resource',
  'invalid_input',
  'not_found',
  'auth',
  'permission',
  'constraint',
  'unimplemented',
  'partial',
  'crash',
  'drop',
]);
export type ChaosKind = z.infer<typeof ChaosKind>;

/** Where the proxy serves: `crash` needs a process to end (stdio), `drop` a connection to drop (HTTP). */
export type ChaosMode = 'stdio' | 'http';

export const ChaosFault = z.strictObject({
  /** A tool name; `*` matches any run of characters (`"*"`: every tool, `"write_*"`). */
  tool: z.string().min(1).default('*'),
  /** The probability that this rule hits a call it matches. */
  rate: z.number().min(0).max(1),
  kind: ChaosKind,
  /** `latency`: the delay; `timeout`: how long the call hangs (default: until cancelled); `rate_limit`: Retry-After. */
  ms: z.number().int().min(0).optional(),
  /** The error text instead of the kind's default wording (it must still read as the kind, or use a rule). */
  message: z.string().min(1).optional(),
});
export type ChaosFault = z.infer<typeof ChaosFault>;

export const ChaosOutage = z
  .strictObject({
    /** Time since the proxy started: seconds as a number, or `5s`, `250ms`, `2m`. */
    from: Duration,
    to: Duration,
  })
  .refine((outage) => outage.to > outage.from, { error: '`to` must be later than `from`' });
export type ChaosOutage = z.infer<typeof ChaosOutage>;

export const ChaosPlan = z.strictObject({
  /** The same seed and the same calls (per tool, in order) give the same faults. */
  seed: z.number().int().default(0),
  faults: z.array(ChaosFault).default([]),
  outages: z.array(ChaosOutage).default([]),
});
export type ChaosPlan = z.infer<typeof ChaosPlan>;
export type ChaosPlanInput = z.input<typeof ChaosPlan>;

const onlyIn: Partial<Record<ChaosKind, { mode: ChaosMode; instead: ChaosKind }>> = {
  crash: { mode: 'stdio', instead: 'drop' },
  drop: { mode: 'http', instead: 'crash' },
};

/** Parses plan text (YAML, so JSON too); `file` names it in problems. Throws `RetraceError`. */
export function parseChaosPlan(text: string, file: string, mode?: ChaosMode): ChaosPlan {
  const parsed = parseYaml(text, file);
  if (!parsed.usable) throw new SourceProblemsError(ErrorCode.configParse, parsed.problems);
  const result = validate(ChaosPlan, parsed.source.document.toJS() ?? {}, { file, source: parsed.source });
  const problems: SourceProblem[] = [...parsed.problems, ...result.problems];
  for (const [index, fault] of (result.data?.faults ?? []).entries()) {
    const rule = onlyIn[fault.kind];
    if (mode === undefined || rule === undefined || rule.mode === mode) continue;
    problems.push({
      location: locate(parsed.source, file, ['faults', index, 'kind']),
      message: `${fault.kind} needs the proxy to serve ${rule.mode} (over ${mode}, use ${rule.instead})`,
    });
  }
  if (!result.data || problems.length > 0) throw new SourceProblemsError(ErrorCode.config, problems);
  return result.data;
}

export function loadChaosPlan(file: string, mode?: ChaosMode): ChaosPlan {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new RetraceError(ErrorCode.config, `cannot read the plan file: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  return parseChaosPlan(text, file, mode);
}
