// A promotion refused because another rollout is still in progress (a lock conflict the chaos campaign met when a run
// that escalated left its rollout behind): the example server says when the rollout settles, and retrace waits that
// long instead of spending its retries on backoff far shorter than the rollout.
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime, type RuntimeEvent } from '../../src/actors/runtime.js';
import { startExampleHttpServer } from '../../src/examples/exampleHttpHost.js';
import { createExampleHost } from '../../src/examples/exampleServer.js';
import { skipWaits } from '../../src/testing/skipWaits.js';
import { createTestClock } from '../../src/testing/testClock.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

/** The example server over HTTP and a runtime in front of it, on one simulated clock whose waits are skipped. */
async function setup(checks: number) {
  const clock = createTestClock(1_735_689_600_000);
  const example = await startExampleHttpServer(createExampleHost({ plan: { deployments: { checks } }, clock }));
  closers.push(() => example.close());
  const runtime: Runtime = createRuntime({
    config: {
      servers: { scheduler: { url: example.url } },
      // Two retries 5 s apart: 10 s of backoff, far shorter than a rollout (checks × 30 s).
      tools: {
        promote_to_production_tool: {
          max_retries: 2,
          base_delay: '5s',
          jitter: 'none',
          retryable: ['transient'],
          idempotent: false,
        },
      },
    },
    clock,
    random: () => 0.5,
  });
  closers.push(() => runtime.close());
  const skipper = skipWaits(runtime, clock);
  closers.push(() => skipper.stop());
  const delays: number[] = [];
  runtime.on('event', (event: RuntimeEvent) => {
    if (event.type === 'toolcall.backoff.scheduled') delays.push(event.delayMs);
  });
  const promote = () =>
    runtime.callTool('scheduler', 'promote_to_production_tool', { staging_version: 'v1.5.0', approval_token: 'tok' });
  return { clock, delays, promote };
}

describe('a promotion refused while another rollout is in progress', () => {
  it('waits as long as the conflict’s retry hint says, past its own backoff, and then goes through', async () => {
    const { clock, delays, promote } = await setup(2);
    const first = await promote();
    expect(first.status).toBe('succeeded');
    const leftAt = clock.now();
    // Nobody monitors the first rollout (as after an escalation): it settles 2 × 30 s after it started.
    const second = await promote();
    expect(second.attempts.map((attempt) => attempt.error?.kind)).toEqual(['lock', undefined]);
    expect(second.attempts[0]?.error).toMatchObject({ retryAfterMs: 60_000 });
    expect(delays).toEqual([60_000]);
    expect(second.status).toBe('succeeded');
    expect(clock.now() - leftAt).toBeGreaterThanOrEqual(60_000);
    expect(second.result?.structuredContent).toMatchObject({ status: 'in_progress' });
  });

  it('asks for only what is left of the rollout', async () => {
    const { clock, delays, promote } = await setup(3);
    expect((await promote()).status).toBe('succeeded');
    clock.advance(75_500);
    const second = await promote();
    // 90 s − 75.5 s = 14.5 s, in whole seconds rounded up.
    expect(delays).toEqual([15_000]);
    expect(second.status).toBe('succeeded');
  });
});
