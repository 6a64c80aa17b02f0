// The `data` of `toolcall.advisory.raised`: a cross-call escalation trigger (repeated failures, error rate) the runtime saw.
import { z } from 'zod';
import { EscalationRecord } from './toolCallEvents.js';

/**
 * No machine can say this fact: it counts the attempts of every call of a tool over a window. The runtime
 * says it, into the run of the call whose failed attempt crossed the threshold (its actorId is that call):
 * it is recorded beside the fact that caused it, durable before that call answers, and it leaves the call's
 * status as it was (it is not an outcome).
 */
export const AdvisoryRaisedData = z.object({
  server: z.string(),
  tool: z.string(),
  /** Its `trigger` is `repeated_failures` or `error_rate`; published as is on `retrace.escalations.<level>`. */
  escalation: EscalationRecord,
  /** The window the figures are counted over. */
  windowMs: z.number().int().min(1),
  /** Failed attempts of the tool in the window (short-circuited ones are not attempts). */
  failures: z.number().int().min(0),
  /** Attempts of the tool in the window, failed or not. */
  calls: z.number().int().min(0),
  /** What was crossed: a failure count for `repeated_failures`, an error rate (0–1) for `error_rate`. */
  threshold: z.number().min(0),
});
export type AdvisoryRaisedData = z.infer<typeof AdvisoryRaisedData>;

/** The fact as the runtime says it, before it becomes an envelope (`at` → ts, `callId` → actorId). */
export type AdvisoryRaised = { type: 'toolcall.advisory.raised'; at: number; callId: string } & AdvisoryRaisedData;

export const advisoryDataSchemas = {
  'toolcall.advisory.raised': AdvisoryRaisedData,
} as const;
