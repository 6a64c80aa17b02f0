// One human line per attempt on stderr, as the tool-call machine reports them.
import { formatDurationMs } from '../common/duration.js';
import type { RuntimeEvent } from '../actors/runtime.js';

/** The first line of a message, marked when more follows (a crashed server's stderr tail stays in the JSON). */
export function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return end === -1 ? message : `${message.slice(0, end).trimEnd()} …`;
}

export function attemptLine(event: RuntimeEvent): string | undefined {
  switch (event.type) {
    case 'toolcall.attempt.started':
      return `→ attempt ${event.n} ${event.server}/${event.tool}${event.route === 'primary' ? '' : ` (${event.route})`}`;
    case 'toolcall.attempt.failed': {
      const { failure } = event;
      return `✗ attempt ${event.n} ${event.tool} after ${formatDurationMs(event.durationMs)}: ${failure.class}/${failure.kind}: ${firstLine(failure.message)} → ${event.decision}${event.decision === 'retry' ? '' : ` (${event.reason})`}`;
    }
    case 'toolcall.backoff.scheduled':
      return `… waiting ${formatDurationMs(event.delayMs)}${event.retryAfter ? ' (Retry-After)' : ''} before attempt ${event.n + 1}`;
    case 'toolcall.fallback.started':
      return `↪ fallback from ${event.tool} to ${event.to ? `${event.to.server}/${event.to.tool}` : 'an empty result'} (${event.reason})`;
    case 'toolcall.cache.hit':
      return `◆ cached result of ${event.tool}, ${formatDurationMs(event.ageMs)} old`;
    case 'toolcall.succeeded':
      return `✓ ${event.status} by ${event.server}/${event.tool}${event.n === undefined ? '' : ` on attempt ${event.n}`}`;
    case 'toolcall.failed':
      return `✗ failed: ${event.error ? `${event.error.kind}: ${firstLine(event.error.message)}` : 'no answer'}`;
    case 'toolcall.escalated':
      return `‼ escalated (${event.escalation.level}, ${event.escalation.trigger}): ${firstLine(event.escalation.message)}`;
    case 'breaker.opened':
    case 'breaker.halfOpened':
    case 'breaker.closed':
      return `⚡ ${event.type} ${'key' in event ? String(event.key) : ''}`;
    default:
      return undefined;
  }
}
