// The `data` of every `breaker.*` event: the circuit breaker's emitted facts minus `type`, `at` and `key` (the actorId).
import { z } from 'zod';
import type { CircuitBreakerEmitted } from '../machines/circuitBreaker.js';

export const BreakerOpenedData = z.object({
  reason: z.enum(['failureRatio', 'probeFailed']),
  failureRatio: z.number().min(0).max(1),
  calls: z.number().int().min(0),
  /** Clock time the cool-down ends. */
  openUntil: z.number(),
});

export const BreakerHalfOpenedData = z.object({});

export const BreakerClosedData = z.object({ reason: z.enum(['probesSucceeded', 'reset']) });

export const breakerDataSchemas = {
  'breaker.opened': BreakerOpenedData,
  'breaker.halfOpened': BreakerHalfOpenedData,
  'breaker.closed': BreakerClosedData,
} as const;

export type BreakerEmittedData<T extends CircuitBreakerEmitted['type']> = Omit<
  Extract<CircuitBreakerEmitted, { type: T }>,
  'type' | 'at' | 'key'
>;

/** Fails to compile when the breaker emits a type without a schema, or a payload its schema would refuse. */
type EveryPayloadFits = {
  [T in CircuitBreakerEmitted['type']]: BreakerEmittedData<T> extends z.input<(typeof breakerDataSchemas)[T]>
    ? true
    : never;
};
const _everyBreakerPayloadFits: EveryPayloadFits = {
  'breaker.opened': true,
  'breaker.halfOpened': true,
  'breaker.closed': true,
};
