// Replay: folds recorded events through the projections (the same reducers as live), and prints a call's timeline.
import type { EventEnvelope } from '../events/envelope.js';
import { decodeTrustedEvent } from '../events/parseEvent.js';
import type { EventStore } from './eventStore.js';
import { foldInto } from './projections/projection.js';
import { runStateProjection, type RunState } from './projections/runState.js';
import { timelineProjection, type AttemptSpan, type Timeline, type TimelineSpan } from './projections/timeline.js';
import { toolMetricsProjection, type ProjectedToolMetrics } from './projections/toolMetrics.js';
import { toolKey } from './projections/eventData.js';

export interface ReplayOptions {
  /** Stop each run at this seq (inclusive): the state as it was then. */
  untilSeq?: number;
}

export interface ReplayResult {
  /** By runId. */
  runs: ReadonlyMap<string, RunState>;
  /** By `server/tool`. */
  metrics: ReadonlyMap<string, ProjectedToolMetrics>;
  /** By `runId/callId`. */
  timelines: ReadonlyMap<string, Timeline>;
}

export interface Replayer {
  /** Folds one event (events of a run in seq order). */
  apply(event: EventEnvelope): void;
  /** The projections so far; later events do not change a result already returned. */
  result(): ReplayResult;
}

/** The projections behind one fold, for replay and for a live subscriber alike. */
export function createReplayer(options: ReplayOptions = {}): Replayer {
  const runs = new Map<string, RunState>();
  const metrics = new Map<string, ProjectedToolMetrics>();
  const timelines = new Map<string, Timeline>();
  const untilSeq = options.untilSeq;
  return {
    apply(event) {
      if (untilSeq !== undefined && event.seq > untilSeq) return;
      foldInto(runStateProjection, runs, event);
      foldInto(toolMetricsProjection, metrics, event);
      foldInto(timelineProjection, timelines, event);
    },
    result: () => ({ runs: new Map(runs), metrics: new Map(metrics), timelines: new Map(timelines) }),
  };
}

export function replay(events: Iterable<EventEnvelope>, options: ReplayOptions = {}): ReplayResult {
  const replayer = createReplayer(options);
  for (const event of events) replayer.apply(event);
  return replayer.result();
}

export async function replayAsync(
  events: AsyncIterable<EventEnvelope>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(options);
  for await (const event of events) replayer.apply(event);
  return replayer.result();
}

/**
 * Folds every event of a store (`readAll`) through the projections, as `retrace metrics` does. The store vouches
 * for its records (validated on write, checksummed), so each is decoded on the trusted path: structural checks
 * and the upgrade chain, no schema; an error names the record's position.
 */
export async function replayStore(
  store: Pick<EventStore, 'readAll' | 'readAllBatches'>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(options);
  if (store.readAllBatches) {
    // In batches where the store offers them: one await per batch, not per event.
    for await (const batch of store.readAllBatches()) {
      for (const stored of batch) replayer.apply(decodeTrustedEvent(stored.event, stored.position));
    }
  } else {
    for await (const stored of store.readAll()) replayer.apply(decodeTrustedEvent(stored.event, stored.position));
  }
  return replayer.result();
}

export type TimelineFormat = 'text' | 'json';

const iso = (ms: number): string => new Date(ms).toISOString();

function describeAttempt(span: AttemptSpan): string {
  const route = span.route && span.route !== 'primary' ? ` (${span.route})` : '';
  const head = `attempt ${span.n} ${toolKey(span)}${route}`;
  if (span.status === 'running') return `${head} running`;
  const duration = `${span.durationMs ?? 0}ms`;
  if (span.status === 'succeeded') return `${head} ${duration} ok`;
  if (span.status === 'abandoned') return `${head} ${duration} abandoned`;
  const failure = span.failure ? `${span.failure.class}/${span.failure.kind}` : 'failed';
  const retryAfter = span.failure?.retryAfterMs === undefined ? '' : ` retry-after ${span.failure.retryAfterMs}ms`;
  return `${head} ${duration} ${failure}${retryAfter} → ${span.decision ?? '?'}${span.reason ? ` (${span.reason})` : ''}`;
}

function describeSpan(span: TimelineSpan): string {
  switch (span.kind) {
    case 'attempt':
      return describeAttempt(span);
    case 'backoff':
      return `backoff ${span.delayMs}ms until ${iso(span.until)}${span.retryAfter ? ' (Retry-After)' : ''}`;
    case 'fallback':
      return `fallback ${toolKey(span.from)} → ${span.to ? toolKey(span.to) : 'empty result'} (${span.reason})`;
    case 'cache':
      return span.hit
        ? `cache hit, ${span.ageMs ?? 0}ms old`
        : `cache miss${span.ageMs === undefined ? '' : `, ${span.ageMs}ms old`}`;
    case 'escalation': {
      const { level, trigger, message } = span.escalation;
      return `escalation ${level} ${trigger}${message ? `: ${message}` : ''}`;
    }
    case 'advisory': {
      const { level, trigger, message } = span.escalation;
      const figures = `${span.failures} of ${span.calls} attempts failed in ${span.windowMs}ms`;
      return `advisory ${level} ${trigger}${message ? `: ${message}` : ''} (${figures})`;
    }
  }
}

function startOf(span: TimelineSpan): number {
  return span.kind === 'attempt' || span.kind === 'backoff' ? span.startedAt : span.at;
}

/** `+0ms attempt 1 srv/tool 12ms transient/unavailable → retry (retryable)`, one line per span, then the outcome. */
export function formatTimeline(timeline: Timeline, format: TimelineFormat): string {
  if (format === 'json') return JSON.stringify(timeline, null, 2);
  const origin = timeline.startedAt ?? (timeline.spans[0] ? startOf(timeline.spans[0]) : (timeline.outcome?.at ?? 0));
  const offset = (at: number): string => `+${at - origin}ms`.padEnd(9);
  const requested = timeline.requested ? ` ${toolKey(timeline.requested)}` : '';
  const lines = [`call ${timeline.callId} (run ${timeline.runId})${requested} at ${iso(origin)}`];
  for (const span of timeline.spans) lines.push(`${offset(startOf(span))} ${describeSpan(span)}`);
  const outcome = timeline.outcome;
  if (outcome) {
    const ended = outcome.status === 'failed' || outcome.status === 'escalated';
    const where = outcome.tool ? ` ${ended ? 'on' : 'via'} ${toolKey(outcome.tool)}` : '';
    const error = outcome.error ? ` (${outcome.error.class}/${outcome.error.kind}: ${outcome.error.message})` : '';
    lines.push(`${offset(outcome.at)} outcome ${outcome.status}${where}${error} after ${outcome.at - origin}ms`);
  } else {
    lines.push('(no outcome yet)');
  }
  return lines.join('\n');
}
