// The NATS bus against real servers: the shared one for publish/subscribe, a private one killed and restarted for an outage.
import { randomBytes } from 'node:crypto';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createNatsBus, type NatsBus } from '../../src/events/natsBus.js';
import type { EscalationRecord } from '../../src/events/toolCallEvents.js';
import { requireSharedNats, startPrivateNatsServer } from '../support/natsServer.js';
import { envelope } from '../store/fileLogEvents.js';

const tag = randomBytes(4).toString('hex');
const subjectPrefix = `retrace.test${tag}.events`;
const escalationPrefix = `retrace.test${tag}.escalations`;
let servers: string;
const buses: NatsBus[] = [];

async function openBus(options: { servers?: string; reconnectTimeWaitMs?: number } = {}): Promise<NatsBus> {
  const bus = await createNatsBus({ servers: options.servers ?? servers, subjectPrefix, escalationPrefix, ...options });
  buses.push(bus);
  return bus;
}

function event(runId: string, seq: number): EventEnvelope {
  return envelope(runId, seq, { actorId: 'call-1', ts: seq, data: {} });
}

/** Collects what a subscription yields until `count` events arrived. */
function collect(bus: NatsBus, count: number, runId?: string): { events: EventEnvelope[]; done: Promise<void> } {
  const events: EventEnvelope[] = [];
  const controller = new AbortController();
  const done = (async () => {
    for await (const received of bus.subscribe({
      ...(runId === undefined ? {} : { runId }),
      signal: controller.signal,
    })) {
      events.push(received);
      if (events.length === count) controller.abort();
    }
  })();
  return { events, done };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

beforeAll(async () => {
  servers = await requireSharedNats();
});

afterAll(async () => {
  await Promise.all(buses.map((bus) => bus.close()));
});

describe('the NATS bus', () => {
  it('publishes events on <prefix>.<runId>.<type> and a subscriber of one run gets only that run, in order', async () => {
    const publisher = await openBus();
    const subscriber = await openBus();
    const raw = await connect({ servers });
    const subjects: string[] = [];
    const rawSubscription = raw.subscribe(`${subjectPrefix}.>`, {
      callback: (_error, msg) => void subjects.push(msg.subject),
    });
    await raw.flush();
    const wanted = collect(subscriber, 3, 'run-a');
    await new Promise((resolve) => setTimeout(resolve, 100));
    publisher.publish(event('run-b', 1));
    for (const seq of [1, 2, 3]) publisher.publish(event('run-a', seq), String(seq));
    await publisher.flush();
    await wanted.done;
    expect(wanted.events.map((e) => [e.runId, e.seq])).toEqual([
      ['run-a', 1],
      ['run-a', 2],
      ['run-a', 3],
    ]);
    expect(publisher.lastPublishedPosition()).toBe('3');
    await until(() => subjects.length === 4, 'the raw subscriber');
    expect(subjects[0]).toBe(`${subjectPrefix}.run-b.toolcall.attempt.started`);
    rawSubscription.unsubscribe();
    await raw.close();
  });

  it('publishes an escalation on <escalationPrefix>.<level>', async () => {
    const bus = await openBus();
    const raw = await connect({ servers });
    const received: Array<{ subject: string; body: unknown }> = [];
    raw.subscribe(`${escalationPrefix}.>`, {
      callback: (_error, msg) => void received.push({ subject: msg.subject, body: msg.json() }),
    });
    await raw.flush();
    const escalation: EscalationRecord = {
      level: 'critical',
      trigger: 'critical_tool_failed',
      server: 'fault',
      tool: 'pay',
      message: 'payment failed',
      recommendedAction: 'check the gateway',
      at: 5,
    };
    bus.publishEscalation('critical', escalation);
    await bus.flush();
    await until(() => received.length === 1, 'the escalation');
    expect(received[0]).toEqual({ subject: `${escalationPrefix}.critical`, body: escalation });
    await raw.close();
  });

  it('refuses a run id that cannot be a subject token', async () => {
    const bus = await openBus();
    expect(() => bus.publish(event('a.b', 1))).toThrow(/cannot be a NATS subject token/);
  });

  it('publishes what it missed while NATS was down, each event once and in order, when NATS returns', async () => {
    const server = await startPrivateNatsServer();
    try {
      // The subscriber reconnects faster than the publisher, so it listens again before the backlog goes out.
      const publisher = await openBus({ servers: server.url, reconnectTimeWaitMs: 1_000 });
      const subscriber = await openBus({ servers: server.url, reconnectTimeWaitMs: 50 });
      const total = 300;
      const received = collect(subscriber, total);
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let seq = 1; seq <= 100; seq++) publisher.publish(event('run-outage', seq), String(seq));
      await publisher.flush();
      await until(() => received.events.length === 100, 'the events before the outage');

      await server.kill();
      for (let seq = 101; seq <= 200; seq++) publisher.publish(event('run-outage', seq), String(seq));
      await until(() => publisher.backlogSize() >= 100, 'the publisher to notice the outage');
      for (let seq = 201; seq <= total; seq++) publisher.publish(event('run-outage', seq), String(seq));
      expect(publisher.lastPublishedPosition()).toBe('100');

      await server.restart();
      await publisher.flush();
      await received.done;
      expect(received.events.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      expect(publisher.lastPublishedPosition()).toBe(String(total));
      expect(publisher.backlogSize()).toBe(0);
    } finally {
      await server.dispose();
    }
  });

  it('starts while NATS is down, with a warning, and publishes what waited once NATS is there', async () => {
    const server = await startPrivateNatsServer({ jetStream: false });
    try {
      await server.kill();
      const warnings: string[] = [];
      const bus = await createNatsBus({
        servers: server.url,
        subjectPrefix,
        reconnectTimeWaitMs: 1_000,
        warn: (message) => warnings.push(message),
      });
      buses.push(bus);
      expect(warnings[0]).toMatch(/cannot reach NATS.*events wait in the backlog/);
      for (let seq = 1; seq <= 20; seq++) bus.publish(event('run-late', seq), String(seq));
      expect(bus.backlogSize()).toBe(20);

      await server.restart();
      // A raw subscriber is listening before the bus's next attempt (it retries every second).
      const raw = await connect({ servers: server.url });
      const seqs: number[] = [];
      raw.subscribe(`${subjectPrefix}.run-late.>`, {
        callback: (_error, msg) => void seqs.push((msg.json() as EventEnvelope).seq),
      });
      await raw.flush();
      await bus.flush();
      await until(() => seqs.length === 20, 'the events that waited');
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(bus.lastPublishedPosition()).toBe('20');
      await raw.close();
    } finally {
      await server.dispose();
    }
  });

  it('drops the oldest with a warning when the backlog is full, and says where to re-read from', async () => {
    const server = await startPrivateNatsServer({ jetStream: false });
    try {
      const warnings: string[] = [];
      const bus = await createNatsBus({
        servers: server.url,
        subjectPrefix,
        maxBacklog: 10,
        warn: (message) => warnings.push(message),
      });
      buses.push(bus);
      bus.publish(event('run-full', 1), '1');
      await bus.flush();
      await server.kill();
      for (let seq = 2; seq <= 30; seq++) bus.publish(event('run-full', seq), String(seq));
      expect(bus.backlogSize()).toBe(10);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/backlog is full \(10 events\).*after position 1/);
    } finally {
      await server.dispose();
    }
  });
});
