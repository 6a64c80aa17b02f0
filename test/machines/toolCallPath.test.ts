// toolCallPath: the states a call's recorded facts take it through, read back from real runs of the tool-call machine
// (scripted attempts on the test clock): the way ends where the machine rests, and names only the machine's states.
import { describe, expect, it } from 'vitest';
import { chartOf, chartStates } from '../../src/machines/export/index.js';
import { toolCallMachine } from '../../src/machines/toolCall.js';
import { toolCallPaths } from '../../src/machines/toolCallPath.js';
import type { ToolCallEmitted } from '../../src/machines/toolCallTypes.js';
import {
  fail,
  http,
  ok,
  settle,
  startCall,
  target,
  toolText,
  type HarnessOptions,
} from '../support/toolCallHarness.js';

const machineStates = new Set(chartStates(chartOf(toolCallMachine)).map((state) => state.key));

/** The way the call's facts describe, in order. */
function wayOf(events: readonly ToolCallEmitted[]): string[] {
  const facts = events.map((event, index) => ({
    seq: index + 1,
    type: event.type,
    actorId: 'call-1',
    data: event as unknown as Record<string, unknown>,
  }));
  return [...toolCallPaths(facts).values()].flat();
}

const cached = { result: { content: [{ type: 'text' as const, text: 'cached' }] }, storedAt: 1_000_000 - 42_000 };

describe('toolCallPath', () => {
  it.each<[string, HarnessOptions, string[]]>([
    [
      'a retry after a backoff, then success',
      { primary: target('primary', { jitter: 'none' }), script: { primary: [fail(http(503)), ok()] } },
      ['idle', 'calling', 'judging', 'backoff', 'preparing', 'calling', 'succeeded'],
    ],
    [
      'a fallback tool that answers',
      {
        primary: target('primary', { max_retries: 0, fallbacks: ['alternative'] }),
        fallbacks: [target('alternative')],
        script: { primary: [fail(http(503))], alternative: [ok()] },
      },
      ['idle', 'calling', 'judging', 'fallback', 'preparing', 'calling', 'succeeded'],
    ],
    [
      'an empty result for a null in the chain',
      {
        primary: target('primary', { max_retries: 0, fallbacks: [null] }),
        fallbacks: [null],
        script: { primary: [fail(http(503))] },
      },
      ['idle', 'calling', 'judging', 'fallback', 'emptyResult'],
    ],
    [
      'every fallback exhausted',
      {
        primary: target('primary', { max_retries: 0 }),
        fallbacks: [target('first', { max_retries: 0 })],
        script: { primary: [fail(http(503))], first: [fail(http(503))] },
      },
      [
        'idle',
        'calling',
        'judging',
        'fallback',
        'preparing',
        'calling',
        'judging',
        'fallback',
        'exhausted',
        'escalated',
      ],
    ],
    [
      'an authentication failure escalated at once',
      { script: { primary: [fail(http(401))] } },
      ['idle', 'calling', 'judging', 'escalated'],
    ],
    [
      'a degraded server skipped',
      { script: { primary: [fail(toolText('MCP server degraded'))] } },
      ['idle', 'calling', 'judging', 'skipped'],
    ],
    [
      'fresh cached data while the backend is down',
      {
        primary: target('primary', { cache: { ttl: '5m' } }),
        cache: { primary: cached },
        script: { primary: [fail(toolText('Backend API down'))] },
      },
      ['idle', 'calling', 'judging', 'fallback', 'readingCache', 'cached'],
    ],
  ])('%s: the way ends where the machine rests', async (_name, options, expected) => {
    const started = startCall(options);
    await settle(started.run, started.clock);
    const way = wayOf(started.events);
    expect(way).toEqual(expected);
    expect(way.at(-1)).toBe(started.run.state());
    for (const state of way) expect(machineStates.has(state), state).toBe(true);
  });
});
