// Test helper: the machines' emitted events as the envelopes the log would hold (one run per call, breakers in their own run).
import { CURRENT_EVENT_VERSION, type EventEnvelope } from '../../../src/events/envelope.js';
import type { CircuitBreakerEmitted } from '../../../src/machines/circuitBreaker.js';
import type { ToolCallEmitted } from '../../../src/machines/toolCallTypes.js';

export type Emitted = ToolCallEmitted | CircuitBreakerEmitted;

/** type → type, at → ts, callId (breakers: key) → actorId, every other field → data; seq gap-free per run. */
export function toEnvelopes(
  emitted: readonly Emitted[],
  runIdOf: (event: Emitted) => string = (event) => ('callId' in event ? `run-${event.callId}` : 'run-breakers'),
): EventEnvelope[] {
  const seqs = new Map<string, number>();
  return emitted.map((event) => {
    const runId = runIdOf(event);
    const seq = (seqs.get(runId) ?? 0) + 1;
    seqs.set(runId, seq);
    const { type, at, ...rest } = event;
    const actorId = 'callId' in rest ? rest.callId : rest.key;
    const data: Record<string, unknown> = { ...rest };
    delete data.callId;
    delete data.key;
    return { v: CURRENT_EVENT_VERSION, id: `${runId}-${seq}`, runId, actorId, seq, ts: at, type, data };
  });
}
