import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createEventWriter, parseEvent } from '../../src/events/index.js';
import type { EmittedFact, RetraceEvent } from '../../src/events/index.js';
import { circuitBreakerMachine } from '../../src/machines/circuitBreaker.js';
import type { CircuitBreakerEmitted } from '../../src/machines/circuitBreaker.js';
import { defaultToolPolicy } from '../../src/policy/toolPolicy.js';
import { fail, hang, http, ok, runCall, target, toolText } from '../support/toolCallHarness.js';
import type { HarnessOptions } from '../support/toolCallHarness.js';

/** Scenarios between them emit every toolcall.* type. */
const scenarios: Record<string, HarnessOptions> = {
  'retries, a fallback and a success': {
    primary: target('primary', { jitter: 'none', fallbacks: ['alternative'], max_retries: 1 }),
    fallbacks: [target('alternative')],
    script: {
      primary: [fail(http(503)), fail(http(429, { 'retry-after': '2' }))],
      alternative: [ok('from the alternative')],
    },
  },
  'a cache hit': {
    primary: target('primary', { cache: { ttl: '5m' } }),
    cache: { primary: { result: { content: [{ type: 'text', text: 'cached' }] }, storedAt: 1_000_000 - 42_000 } },
    script: { primary: [fail(toolText('Backend API down'))] },
  },
  'a stale cache and a failure': {
    primary: target('primary', { cache: { ttl: '5m' } }),
    cache: { primary: { result: { content: [] }, storedAt: 1_000_000 - 301_000 } },
    script: { primary: [fail(toolText('Backend API down'))] },
  },
  'an escalation': {
    primary: target('primary', { idempotent: false, timeout: '1s' }),
    script: { primary: [hang] },
  },
};

/** Written with the writer, sent through JSON, and read back. */
function writeAndRead(facts: readonly EmittedFact[]): RetraceEvent[] {
  let now = 0;
  const writer = createEventWriter({ clock: { now: () => (now += 1) }, random: () => 0.25 });
  return facts.map((fact) => {
    const written = writer.toEnvelope('run-1', fact);
    const json: unknown = JSON.parse(JSON.stringify(written));
    expect(parseEvent(json)).toEqual(json);
    return parseEvent(json);
  });
}

describe('facts of the live machines', () => {
  it.each(Object.entries(scenarios))('writes and reads back every fact of a call with %s', async (_name, options) => {
    const run = await runCall(options);
    const read = writeAndRead(run.events);
    expect(read.map((event) => event.type)).toEqual(run.events.map((fact) => fact.type));
    expect(read.map((event) => event.seq)).toEqual(run.events.map((_fact, index) => index + 1));
    expect(read.map((event) => event.ts)).toEqual(run.events.map((fact) => fact.at));
  });

  it('covers every toolcall.* type that is emitted on these paths', async () => {
    const types = new Set<string>();
    for (const options of Object.values(scenarios))
      for (const fact of (await runCall(options)).events) types.add(fact.type);
    expect([...types].sort()).toEqual(
      [
        'toolcall.requested',
        'toolcall.attempt.started',
        'toolcall.attempt.failed',
        'toolcall.backoff.scheduled',
        'toolcall.fallback.started',
        'toolcall.cache.hit',
        'toolcall.cache.miss',
        'toolcall.succeeded',
        'toolcall.failed',
        'toolcall.escalated',
      ].sort(),
    );
  });

  it('writes and reads back a breaker that opens, half-opens and closes', () => {
    const clock = new SimulatedClock();
    const emitted: CircuitBreakerEmitted[] = [];
    const actor = createActor(circuitBreakerMachine, {
      input: { key: 'fault/flaky', ...defaultToolPolicy.breaker, minimumCalls: 1, cooldownMs: 100 },
      clock,
    });
    actor.on('*', (event) => emitted.push(event));
    actor.start();
    actor.send({ type: 'CALL.FAILED', at: 0 });
    clock.increment(100);
    actor.send({ type: 'PROBE.STARTED', token: 'a' });
    actor.send({ type: 'CALL.SUCCEEDED', at: 100, token: 'a' });
    const read = writeAndRead(emitted);
    expect(read.map((event) => [event.type, event.actorId])).toEqual([
      ['breaker.opened', 'fault/flaky'],
      ['breaker.halfOpened', 'fault/flaky'],
      ['breaker.closed', 'fault/flaky'],
    ]);
    expect(read[0]?.data).toEqual({ reason: 'failureRatio', failureRatio: 1, calls: 1, openUntil: 100 });
  });
});
