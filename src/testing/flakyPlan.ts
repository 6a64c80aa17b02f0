// The flaky server's failure plan: the ways a call can fail, their shorthands, and the per-tool script of outcomes.
import { z } from 'zod';
import { FailureMode, FailureSpec } from '../common/failureShapes.js';

/** How one call fails; the shapes live in src/common/failureShapes.ts, shared with `retrace chaos-proxy`. */
export const FlakyErrorMode = FailureMode;
export type FlakyErrorMode = FailureMode;
export { FailureSpec };

export const shorthands = {
  unavailable: { error: 'is_error_text', text: 'Service temporarily unavailable' },
  timeout: { error: 'hang' },
  hang: { error: 'hang' },
  rate_limit: { error: 'is_error_structured', error_type: 'rate_limit', retry_after: 1, text: 'Rate limit exceeded' },
  invalid_params: { error: 'rpc', code: -32602, text: 'Invalid params' },
  internal: { error: 'rpc', code: -32603, text: 'Internal error' },
  exit: { error: 'exit' },
  http_429: { error: 'http_status', status: 429, headers: { 'retry-after': '1' } },
  http_503: { error: 'http_status', status: 503 },
  drop: { error: 'drop' },
  reset: { error: 'reset' },
} satisfies Record<string, FailureSpec>;

/** One scripted outcome: `ok`, a shorthand (`unavailable`, `timeout`, `rate_limit`, `http_429`, …) or a FailureSpec. */
const shorthandNames = Object.keys(shorthands) as [keyof typeof shorthands];
export const PlanStep = z.union([z.enum(['ok', ...shorthandNames]), FailureSpec], {
  error: () =>
    `expected "ok", one of ${shorthandNames.join(', ')}, or {"error": ${FlakyErrorMode.options.join('|')}, …}`,
});
export type PlanStep = z.infer<typeof PlanStep>;

/** Per tool, the outcomes of its next calls, consumed one per call; afterwards the tool behaves normally. */
export const FlakyPlan = z.record(z.string(), z.array(PlanStep));
export type FlakyPlan = z.infer<typeof FlakyPlan>;

/** The `flaky` tool's arguments: fail the first `failures` calls for `key` as the FailureSpec says. */
export const FlakyArgs = FailureSpec.extend({
  key: z.string().min(1),
  failures: z.number().int().min(0),
  error: FlakyErrorMode.default('is_error_text'),
});
