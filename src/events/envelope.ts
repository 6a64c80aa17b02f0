// The envelope every fact travels in: to the log, on NATS, into projections and replays.
import { z } from 'zod';

/** The envelope version written today; readers accept this and every older version they can upgrade. */
export const CURRENT_EVENT_VERSION = 1;

export const EventEnvelope = z.object({
  v: z.number().int().min(1),
  /** Sortable, time-ordered (ULID). */
  id: z.string().min(1),
  runId: z.string().min(1),
  /** The actor that said it: a tool call's callId, a workflow's actor id, a breaker's `server/tool`. */
  actorId: z.string().min(1),
  parentId: z.string().min(1).optional(),
  /** Gap-free per run, from 1. */
  seq: z.number().int().min(1),
  /** Clock time (ms since the epoch) the fact is about. */
  ts: z.number(),
  /** Dotted, past tense: `toolcall.attempt.failed`. */
  type: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope = z.infer<typeof EventEnvelope>;
