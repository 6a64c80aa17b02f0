// STYLE rule 14: the events a live tool-call actor received, folded through XState's pure transition(), give the same state.
import { describe, expect, it } from 'vitest';
import { createActor, initialTransition, transition, type AnyEventObject } from 'xstate';
import type { ToolCallEvent } from '../../src/machines/toolCallTypes.js';
import { buildCall, fail, http, ok, rpc, target } from '../support/toolCallHarness.js';

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('tool-call machine replay', () => {
  it('rebuilds a run with retries, a fallback and a success from its recorded events alone', async () => {
    const { machine, input, clock } = buildCall({
      primary: target('primary', { jitter: 'full', fallbacks: ['alternative'], max_retries: 2 }),
      fallbacks: [target('alternative', { jitter: 'decorrelated' })],
      seed: 0.42,
      script: {
        primary: [fail(http(503)), fail(http(429, { 'retry-after': '2' })), fail(rpc(-32601, 'Method not found'))],
        alternative: [fail(http(502)), ok('from the alternative')],
      },
    });
    const received: AnyEventObject[] = [];
    const actor = createActor(machine, {
      input: { ...input, callId: 'replayed' },
      clock,
      inspect: (event) => {
        if (event.type === '@xstate.event' && event.actorRef === actor) received.push(event.event);
      },
    });
    actor.start();
    for (let guard = 0; guard < 100 && actor.getSnapshot().status !== 'done'; guard += 1) {
      await flush();
      if (actor.getSnapshot().value === 'backoff') actor.send({ type: 'RETRY.DUE' });
      else clock.runNext();
    }
    const live = actor.getSnapshot();
    expect(live.status).toBe('done');
    expect(live.output?.status).toBe('fallback');
    expect(live.output?.attempts).toHaveLength(5);

    let [replayed] = initialTransition(machine, { ...input, callId: 'replayed' });
    for (const event of received.filter((event) => event.type !== 'xstate.init')) {
      [replayed] = transition(machine, replayed, event as ToolCallEvent);
    }
    expect(replayed.value).toEqual(live.value);
    expect(replayed.context).toEqual(live.context);
    expect(replayed.output).toEqual(live.output);
  });
});
