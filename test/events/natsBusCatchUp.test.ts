// The NATS bus over the file log: what overflows its backlog in an outage, or what a dead process never published, is re-read from the log — each event once, in order per run.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { compactCursor } from '../../src/events/busCursor.js';
import { createNatsBus, type NatsBus } from '../../src/events/natsBus.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { createTestClock } from '../../src/testing/testClock.js';
import { startPrivateNatsServer, type PrivateNatsServer } from '../support/natsServer.js';
import { createScriptedConnector } from '../support/scriptedConnector.js';
import { envelope, runEvents } from '../store/fileLogEvents.js';

const subjectPrefix = 'retrace.events';
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function privateServer(): Promise<PrivateNatsServer> {
  const server = await startPrivateNatsServer();
  cleanups.push(() => server.dispose());
  return server;
}

async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'retrace-bus-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A subscriber that cannot miss a message while it reconnects: a stream on the private server captures
 * `retrace.events.>` in its store directory, which outlives a kill and a restart.
 */
async function captureStream(server: PrivateNatsServer): Promise<{ received(): Promise<EventEnvelope[]> }> {
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'CAPTURE', subjects: [`${subjectPrefix}.>`] });
  await nc.close();
  return {
    async received() {
      const reader: NatsConnection = await connect({ servers: server.url });
      try {
        const manager: JetStreamManager = await jetstreamManager(reader);
        const { state } = await manager.streams.info('CAPTURE');
        const events: EventEnvelope[] = [];
        for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
          const message = await manager.streams.getMessage('CAPTURE', { seq });
          if (message) events.push(message.json<EventEnvelope>());
        }
        return events;
      } finally {
        await reader.close();
      }
    },
  };
}

async function storedEvents(store: EventStore): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  for await (const stored of store.readAll()) events.push(stored.event);
  return events;
}

/** Per run, the seqs in the order they arrived. */
function seqsByRun(events: readonly EventEnvelope[]): Map<string, number[]> {
  const runs = new Map<string, number[]>();
  for (const event of events) runs.set(event.runId, [...(runs.get(event.runId) ?? []), event.seq]);
  return runs;
}

function recordingRuntime(store: EventStore, bus: Pick<NatsBus, 'publish' | 'publishEscalation'>): Runtime {
  const clock = createTestClock(1_700_000_000_000);
  return createRuntime({
    config: { servers: { srv: { command: 'unused' } } },
    connector: createScriptedConnector(clock, () => ({ text: 'ok' })),
    clock,
    store,
    bus,
  });
}

describe('the NATS bus over the file log', () => {
  it('re-reads the log for what overflowed its backlog in an outage, and each event arrives once, in order per run', async () => {
    const server = await privateServer();
    const capture = await captureStream(server);
    const store = await createFileLog({ dir: await scratchDir() });
    cleanups.push(() => store.close());
    const warnings: string[] = [];
    const bus = await createNatsBus({
      servers: server.url,
      subjectPrefix,
      store,
      maxBacklog: 5,
      reconnectTimeWaitMs: 100,
      warn: (message) => warnings.push(message),
    });
    cleanups.push(() => bus.close());
    const runtime = recordingRuntime(store, bus);
    cleanups.push(() => runtime.close());

    for (let call = 0; call < 3; call++) await runtime.callTool('srv', 'echo');
    await bus.flush();
    const before = (await storedEvents(store)).length;
    await until(async () => (await capture.received()).length === before, 'the events before the outage');

    await server.kill();
    // Each call records a few events: well past the backlog bound of 5.
    for (let call = 0; call < 40 || !bus.behind(); call++) await runtime.callTool('srv', 'echo');
    expect(bus.behind()).toBe(true);
    expect(bus.backlogSize()).toBe(0);
    expect(warnings.join('\n')).toMatch(/backlog is full \(5 events\).*re-read from the log/);

    await server.restart();
    // Calls go on while the bus reconnects and re-reads: before it, during it and after it.
    const caughtUp = bus.flush();
    let settled = false;
    void caughtUp.then(() => (settled = true));
    for (let call = 0; call < 40 || !settled; call++) {
      await runtime.callTool('srv', 'echo');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await caughtUp;
    await bus.flush();
    expect(bus.behind()).toBe(false);

    const stored = await storedEvents(store);
    await until(async () => (await capture.received()).length >= stored.length, 'the re-read and live events');
    const received = await capture.received();
    expect(received).toHaveLength(stored.length);
    expect(seqsByRun(received)).toEqual(seqsByRun(stored));
    expect(new Set(received.map((event) => event.id)).size).toBe(stored.length);
  });

  it('falls behind on a burst past its bound while connected, and sends what is already in flight only once', async () => {
    const server = await privateServer();
    const capture = await captureStream(server);
    const store = await createFileLog({ dir: await scratchDir() });
    cleanups.push(() => store.close());
    const bus = await createNatsBus({ servers: server.url, subjectPrefix, store, maxBacklog: 3, warn: () => {} });
    cleanups.push(() => bus.close());
    await store.append(runEvents('a', 8).flatMap((event, i) => [event, envelope('b', i + 1)]));
    const stored: Array<{ event: EventEnvelope; position: string }> = [];
    for await (const { event, position } of store.readAll()) stored.push({ event, position });

    // In one tick: the first flush is still in flight when the sent events pass the bound, and NATS never drops.
    for (const { event, position } of stored) bus.publish(event, position);
    expect(bus.behind()).toBe(true);
    await bus.flush();
    expect(bus.behind()).toBe(false);

    await until(async () => (await capture.received()).length >= stored.length, 'the burst');
    const received = await capture.received();
    expect(received.map((event) => event.id)).toEqual(stored.map(({ event }) => event.id));
  });

  it('saves its cursor, so a restarted process publishes what a dead one appended but never published', async () => {
    const server = await privateServer();
    const capture = await captureStream(server);
    const dir = await scratchDir();
    const cursorFile = join(dir, 'bus-cursor.json');
    const readCursor = async () => JSON.parse(await readFile(cursorFile, 'utf8')) as { clean: boolean; seqs: object };

    // The first process records and publishes three calls, then closes with everything confirmed: a clean cursor.
    let store = await createFileLog({ dir });
    let bus = await createNatsBus({ servers: server.url, subjectPrefix, store, cursorFile });
    expect(await readCursor()).toMatchObject({ clean: false });
    const first = recordingRuntime(store, bus);
    for (let call = 0; call < 3; call++) await first.callTool('srv', 'echo');
    await first.close();
    await bus.close();
    const published = await storedEvents(store);
    const closed = await readCursor();
    expect(closed.clean).toBe(true);
    expect(Object.keys(closed.seqs)).toHaveLength(3);

    // A second process appends two calls and dies before its bus (on a NATS that is not there) publishes them.
    bus = await createNatsBus({ servers: `nats://127.0.0.1:${server.port + 1}`, store, cursorFile, warn: () => {} });
    const dead = bus;
    cleanups.push(() => dead.close());
    expect(await readCursor()).toMatchObject({ clean: false });
    const second = recordingRuntime(store, bus);
    for (let call = 0; call < 2; call++) await second.callTool('srv', 'echo');
    await store.close();

    // A third process finds the cursor not clean, re-reads the log after it and publishes what the second missed.
    store = await createFileLog({ dir });
    cleanups.push(() => store.close());
    bus = await createNatsBus({ servers: server.url, subjectPrefix, store, cursorFile });
    cleanups.push(() => bus.close());
    await bus.flush();
    const stored = await storedEvents(store);
    expect(stored.length).toBeGreaterThan(published.length);
    await until(async () => (await capture.received()).length >= stored.length, 'the missed events');
    const received = await capture.received();
    expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
  });

  it('compacts its cursor to the published prefix of the log and the runs with events after it', async () => {
    const store = await createFileLog({ dir: await scratchDir() });
    cleanups.push(() => store.close());
    const at = (runId: string, seq: number): EventEnvelope =>
      envelope(runId, seq, { actorId: 'call-1', ts: seq, data: {} });
    await store.append([at('a', 1), at('b', 1), at('a', 2), at('b', 2), at('c', 1)]);
    const positions: string[] = [];
    for await (const stored of store.readAll()) positions.push(stored.position);
    const seqs = new Map([
      ['a', 2],
      ['b', 1],
      ['c', 1],
    ]);
    const compacted = await compactCursor(store, { position: undefined, seqs });
    expect(compacted).toEqual({
      position: positions[2],
      seqs: new Map([
        ['b', 1],
        ['c', 1],
      ]),
    });
  });
});
