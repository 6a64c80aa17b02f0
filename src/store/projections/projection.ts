// What a projection is: a pure reducer with its initial state, and the key (run, tool, call) it folds each event under.
import type { EventEnvelope } from '../../events/envelope.js';

export type Reducer<S> = (state: S, event: EventEnvelope) => S;

export interface Projection<S> {
  readonly initial: S;
  readonly reduce: Reducer<S>;
  /** The state an event belongs to (a run, a tool, a call); undefined: the projection ignores it. */
  readonly keyOf: (event: EventEnvelope) => string | undefined;
}

/**
 * Folds one event into a keyed collection. The reducer never mutates a state; the collection is the caller's
 * own index, updated in place so that an event costs one small object copy however many keys there are.
 */
export function foldInto<S>(projection: Projection<S>, states: Map<string, S>, event: EventEnvelope): void {
  const key = projection.keyOf(event);
  if (key === undefined) return;
  const before = states.get(key) ?? projection.initial;
  const after = projection.reduce(before, event);
  if (after !== before) states.set(key, after);
}

/** Folds events into a fresh keyed collection. */
export function foldAll<S>(projection: Projection<S>, events: Iterable<EventEnvelope>): Map<string, S> {
  const states = new Map<string, S>();
  for (const event of events) foldInto(projection, states, event);
  return states;
}

/** A copy of `items` with the one at `index` replaced: reducers never change their input. */
export function replaceAt<T>(items: readonly T[], index: number, item: T): readonly T[] {
  const next = items.slice();
  next[index] = item;
  return next;
}
