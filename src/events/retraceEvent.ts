// Every event retrace writes, as one zod union on `type`: the envelope with each type's own data.
import { z } from 'zod';
import { advisoryDataSchemas } from './advisoryEvents.js';
import { breakerDataSchemas } from './breakerEvents.js';
import { EventEnvelope } from './envelope.js';
import { toolCallDataSchemas } from './toolCallEvents.js';
import { workflowDataSchemas } from './workflowEvents.js';

/** The envelope of one type, its `data` typed. */
function eventOf<T extends string, D extends z.ZodType>(type: T, data: D) {
  return EventEnvelope.extend({ type: z.literal(type), data });
}

const tc = toolCallDataSchemas;
const br = breakerDataSchemas;
const ad = advisoryDataSchemas;
const wf = workflowDataSchemas;

export const RetraceEvent = z.discriminatedUnion('type', [
  eventOf('toolcall.requested', tc['toolcall.requested']),
  eventOf('toolcall.attempt.started', tc['toolcall.attempt.started']),
  eventOf('toolcall.attempt.failed', tc['toolcall.attempt.failed']),
  eventOf('toolcall.backoff.scheduled', tc['toolcall.backoff.scheduled']),
  eventOf('toolcall.fallback.started', tc['toolcall.fallback.started']),
  eventOf('toolcall.cache.hit', tc['toolcall.cache.hit']),
  eventOf('toolcall.cache.miss', tc['toolcall.cache.miss']),
  eventOf('toolcall.succeeded', tc['toolcall.succeeded']),
  eventOf('toolcall.failed', tc['toolcall.failed']),
  eventOf('toolcall.escalated', tc['toolcall.escalated']),
  eventOf('toolcall.warning', tc['toolcall.warning']),
  eventOf('toolcall.advisory.raised', ad['toolcall.advisory.raised']),
  eventOf('breaker.opened', br['breaker.opened']),
  eventOf('breaker.halfOpened', br['breaker.halfOpened']),
  eventOf('breaker.closed', br['breaker.closed']),
  eventOf('workflow.started', wf['workflow.started']),
  eventOf('workflow.step.started', wf['workflow.step.started']),
  eventOf('workflow.step.succeeded', wf['workflow.step.succeeded']),
  eventOf('workflow.step.failed', wf['workflow.step.failed']),
  eventOf('workflow.step.skipped', wf['workflow.step.skipped']),
  eventOf('workflow.step.retrying', wf['workflow.step.retrying']),
  eventOf('workflow.step.fallback', wf['workflow.step.fallback']),
  eventOf('workflow.step.cancelled', wf['workflow.step.cancelled']),
  eventOf('workflow.state.updated', wf['workflow.state.updated']),
  eventOf('workflow.computed.evaluated', wf['workflow.computed.evaluated']),
  eventOf('workflow.warning', wf['workflow.warning']),
  eventOf('workflow.succeeded', wf['workflow.succeeded']),
  eventOf('workflow.failed', wf['workflow.failed']),
  eventOf('workflow.escalated', wf['workflow.escalated']),
  eventOf('workflow.cancelled', wf['workflow.cancelled']),
  eventOf('workflow.resolved', wf['workflow.resolved']),
  eventOf('workflow.resumed', wf['workflow.resumed']),
]);
export type RetraceEvent = z.infer<typeof RetraceEvent>;

export type RetraceEventType = RetraceEvent['type'];

/** The event of one type: `EventOfType<'toolcall.backoff.scheduled'>['data']['until']`. */
export type EventOfType<T extends RetraceEventType> = Extract<RetraceEvent, { type: T }>;

/** The data schema of every event type, by type. */
export const eventDataSchemas = {
  ...toolCallDataSchemas,
  ...advisoryDataSchemas,
  ...breakerDataSchemas,
  ...workflowDataSchemas,
} as const;

export const retraceEventTypes = Object.keys(eventDataSchemas) as RetraceEventType[];

export function isRetraceEventType(type: string): type is RetraceEventType {
  return Object.hasOwn(eventDataSchemas, type);
}

/** Fails to compile when a data schema has no member in the union, or the other way round. */
type EveryTypeInTheUnion = [keyof typeof eventDataSchemas] extends [RetraceEventType]
  ? [RetraceEventType] extends [keyof typeof eventDataSchemas]
    ? true
    : never
  : never;
const _everyTypeInTheUnion: EveryTypeInTheUnion = true;
