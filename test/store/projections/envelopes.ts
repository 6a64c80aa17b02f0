// Test helper: the machines' emitted events as the log holds them, through the real event writer (one run per call).
import type { EventEnvelope } from '../../../src/events/envelope.js';
import { createEventWriter, type EmittedFact } from '../../../src/events/eventWriter.js';

export type Emitted = EmittedFact;

/** Validated envelopes: type → type, at → ts, callId (breakers: key) → actorId, the rest → data; seq gap-free per run. */
export function toEnvelopes(
  emitted: readonly Emitted[],
  runIdOf: (event: Emitted) => string = (event) => ('callId' in event ? `run-${event.callId}` : 'run-breakers'),
): EventEnvelope[] {
  let tick = 0;
  const writer = createEventWriter({ clock: { now: () => (tick += 1) }, random: () => 0.5 });
  return emitted.map((event) => writer.toEnvelope(runIdOf(event), event));
}
