// A tool call's timeline as text (`retrace replay` of a call's run) or JSON; its span lines serve the workflow tree too.
import { toolKey } from './projections/eventData.js';
import type { AttemptSpan, Timeline, TimelineSpan } from './projections/timeline.js';

export type TimelineFormat = 'text' | 'json';

/** How a line names a point in time: an ISO date, or an offset from the run's start. */
export type TimeLabel = (ms: number) => string;

export const isoTime: TimeLabel = (ms) => new Date(ms).toISOString();

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

/** One span of a tool call as a line (without its time). */
export function describeSpan(span: TimelineSpan, time: TimeLabel = isoTime): string {
  switch (span.kind) {
    case 'attempt':
      return describeAttempt(span);
    case 'backoff':
      return `backoff ${span.delayMs}ms until ${time(span.until)}${span.retryAfter ? ' (Retry-After)' : ''}`;
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

export function spanStart(span: TimelineSpan): number {
  return span.kind === 'attempt' || span.kind === 'backoff' ? span.startedAt : span.at;
}

/** The call's outcome as a line (without its time); undefined while it has none. */
export function describeOutcome(timeline: Timeline, origin: number): string | undefined {
  const outcome = timeline.outcome;
  if (!outcome) return undefined;
  const ended = outcome.status === 'failed' || outcome.status === 'escalated';
  const where = outcome.tool ? ` ${ended ? 'on' : 'via'} ${toolKey(outcome.tool)}` : '';
  const error = outcome.error ? ` (${outcome.error.class}/${outcome.error.kind}: ${outcome.error.message})` : '';
  return `outcome ${outcome.status}${where}${error} after ${outcome.at - origin}ms`;
}

/** `+0ms attempt 1 srv/tool 12ms transient/unavailable → retry (retryable)`, one line per span, then the outcome. */
export function formatTimeline(timeline: Timeline, format: TimelineFormat): string {
  if (format === 'json') return JSON.stringify(timeline, null, 2);
  const origin = timeline.startedAt ?? (timeline.spans[0] ? spanStart(timeline.spans[0]) : (timeline.outcome?.at ?? 0));
  const offset = (at: number): string => `+${at - origin}ms`.padEnd(9);
  const requested = timeline.requested ? ` ${toolKey(timeline.requested)}` : '';
  const lines = [`call ${timeline.callId} (run ${timeline.runId})${requested} at ${isoTime(origin)}`];
  for (const span of timeline.spans) lines.push(`${offset(spanStart(span))} ${describeSpan(span)}`);
  const outcome = describeOutcome(timeline, origin);
  lines.push(outcome && timeline.outcome ? `${offset(timeline.outcome.at)} ${outcome}` : '(no outcome yet)');
  return lines.join('\n');
}
