// The runtime publishes every recorded fact on core NATS, after it is durable, and escalations on their own subjects.
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { createNatsBus } from '../../src/events/natsBus.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { createMemoryStore } from '../support/memoryStore.js';
import { requireSharedNats } from '../support/natsServer.js';
import { createScriptedConnector } from '../support/scriptedConnector.js';

const tag = randomBytes(4).toString('hex');
const subjectPrefix = `retrace.rt${tag}.events`;
const escalationPrefix = `retrace.rt${tag}.escalations`;

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe('runtime with the NATS bus', () => {
  it('publishes the facts of a call in seq order once recorded, and its escalations by level', async () => {
    const servers = await requireSharedNats();
    const raw = await connect({ servers });
    const events: Array<{ subject: string; seq: number }> = [];
    const escalations: string[] = [];
    raw.subscribe(`${subjectPrefix}.>`, {
      callback: (_error, msg) => void events.push({ subject: msg.subject, seq: (msg.json() as { seq: number }).seq }),
    });
    raw.subscribe(`${escalationPrefix}.>`, { callback: (_error, msg) => void escalations.push(msg.subject) });
    await raw.flush();

    const bus = await createNatsBus({ servers, subjectPrefix, escalationPrefix });
    const clock = createTestClock(1_700_000_000_000);
    const store = createMemoryStore();
    const runtime = createRuntime({
      config: {
        servers: { srv: { command: 'unused' } },
        tools: { deploy: { critical: true, max_retries: 0 } },
        // The first failure is an error rate of 100% over the minimum of one call: an advisory before the escalation.
        escalation: { error_rate: { minimum_calls: 1 } },
      },
      connector: createScriptedConnector(clock, () => ({
        failure: { source: 'http', status: 503, headers: {}, message: 'HTTP 503' },
      })),
      clock,
      store,
      bus,
    });
    const outcome = await runtime.callTool('srv', 'deploy');
    expect(outcome.status).toBe('escalated');
    await bus.flush();
    const recorded = await store.read(outcome.runId);
    expect(recorded.map((event) => event.type)).toContain('toolcall.advisory.raised');
    await until(() => events.length === recorded.length && escalations.length === 2, 'the published facts');
    expect(events.map((event) => event.seq)).toEqual(recorded.map((event) => event.seq));
    expect(events.map((event) => event.subject)).toEqual(
      recorded.map((event) => `${subjectPrefix}.${outcome.runId}.${event.type}`),
    );
    expect(escalations).toEqual([`${escalationPrefix}.warning`, `${escalationPrefix}.critical`]);
    await runtime.close();
    await bus.close();
    await raw.close();
  });
});
