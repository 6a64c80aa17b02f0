// The JetStream event store against the real nats-server on 127.0.0.1:4222.
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createJetStreamStore, type JetStreamStore } from '../../src/store/jetStreamStore.js';
import { requireSharedNats, startPrivateNatsServer } from '../support/natsServer.js';

const tag = randomBytes(4).toString('hex');
const stream = `RETRACE_TEST_${tag}`;
const subjectPrefix = `retrace.test${tag}.events`;
let servers: string;
const stores: JetStreamStore[] = [];

async function openStore(): Promise<JetStreamStore> {
  const store = await createJetStreamStore({ servers, stream, subjectPrefix });
  stores.push(store);
  return store;
}

function event(runId: string, seq: number, type = 'toolcall.attempt.started', ts = 1_000 + seq): EventEnvelope {
  return {
    v: 1,
    id: `${runId}-${seq}-${randomBytes(3).toString('hex')}`,
    runId,
    actorId: 'call-1',
    seq,
    ts,
    type,
    data: { seq },
  };
}

beforeAll(async () => {
  servers = await requireSharedNats();
});

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
  const nc = await connect({ servers });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(stream).catch(() => false);
  await nc.close();
});

describe('the JetStream store', () => {
  it('creates its stream if missing and reads a run back as it was appended', async () => {
    const store = await openStore();
    const events = [1, 2, 3].map((seq) => event('run-a', seq));
    await store.append(events);
    expect(await store.read('run-a')).toEqual(events);
    expect(await store.read('run-a', 2)).toEqual(events.slice(1));
    expect(await store.read('run-none')).toEqual([]);
  });

  it('stores an event appended twice (same id) once', async () => {
    const store = await openStore();
    const first = event('run-dedupe', 1);
    await store.append([first]);
    await store.append([first]);
    await store.append([first, event('run-dedupe', 2)]);
    const stored = await store.read('run-dedupe');
    expect(stored.map((e) => e.seq)).toEqual([1, 2]);
  });

  it('refuses a second writer of the same run', async () => {
    const writerA = await openStore();
    const writerB = await openStore();
    await writerA.append([event('run-two', 1), event('run-two', 2)]);
    const refusal = await writerB.append([event('run-two', 1)]).catch((error: unknown) => error);
    expect(isRetraceError(refusal)).toBe(true);
    expect(String((refusal as Error).message)).toMatch(/another writer/);
    // B continues from a stale view: refused too, while A keeps going.
    await writerA.append([event('run-two', 3)]);
    expect((await writerA.read('run-two')).map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('keeps every run whole and in order when two writers append to the stream at the same time', async () => {
    const writerA = await openStore();
    const writerB = await openStore();
    const many = (runId: string): EventEnvelope[] => Array.from({ length: 3_000 }, (_, i) => event(runId, i + 1));
    await Promise.all([writerA.append(many('run-p1')), writerB.append(many('run-p2')), writerA.append(many('run-p3'))]);
    for (const runId of ['run-p1', 'run-p2', 'run-p3']) {
      const stored = await writerB.read(runId);
      expect(stored.map((e) => e.seq)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    }
  });

  it('lets only one of two writers racing on the same run through, and stores its events alone', async () => {
    const writerA = await openStore();
    const writerB = await openStore();
    const batchA = Array.from({ length: 2_000 }, (_, i) => event('run-race', i + 1));
    const batchB = Array.from({ length: 2_000 }, (_, i) => event('run-race', i + 1));
    const [a, b] = await Promise.allSettled([writerA.append(batchA), writerB.append(batchB)]);
    expect([a.status, b.status].sort()).toEqual(['fulfilled', 'rejected']);
    const loser = a.status === 'rejected' ? a : (b as PromiseRejectedResult);
    expect(String((loser.reason as Error).message)).toMatch(/another writer/);
    const winner = a.status === 'fulfilled' ? batchA : batchB;
    expect((await writerA.read('run-race')).map((e) => e.id)).toEqual(winner.map((e) => e.id));
  });

  it('refuses a writer whose view of a run went stale, and lets the current writer continue', async () => {
    const writerA = await openStore();
    const writerB = await openStore();
    await writerA.append([event('run-stale', 1)]);
    await writerB.append([event('run-stale', 2)]);
    await expect(writerA.append([event('run-stale', 2)])).rejects.toThrow(/another writer/);
    await writerB.append([event('run-stale', 3)]);
    // A, refused, learns the run again from the stream: B is ahead of it, so A stays refused.
    await expect(writerA.append([event('run-stale', 3)])).rejects.toThrow(/another writer/);
    await writerB.append([event('run-stale', 4)]);
    const stored = await writerB.read('run-stale');
    expect(stored.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('takes a retry of events stored already as done, and continues after them', async () => {
    const first = await openStore();
    const events = [1, 2, 3].map((seq) => event('run-retry', seq));
    await first.append(events.slice(0, 2));
    const second = await openStore();
    await second.append(events.slice(1));
    expect((await second.read('run-retry')).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('lets one writer through on a raced run while both also write runs of their own, and keeps every run whole', async () => {
    const writerA = await openStore();
    const writerB = await openStore();
    const runOf = (runId: string, count: number): EventEnvelope[] =>
      Array.from({ length: count }, (_, i) => event(runId, i + 1));
    const mixed = (own: string, raced: EventEnvelope[]): EventEnvelope[] => {
      const mine = runOf(own, 1_500);
      return mine.flatMap((e, i) => (i < raced.length ? [e, raced[i] as EventEnvelope] : [e]));
    };
    const racedA = runOf('run-mixed-race', 1_000);
    const racedB = runOf('run-mixed-race', 1_000);
    const [a, b] = await Promise.allSettled([
      writerA.append(mixed('run-mixed-a', racedA)),
      writerB.append(mixed('run-mixed-b', racedB)),
    ]);
    expect([a.status, b.status]).toContain('rejected');
    const stored = (await writerA.read('run-mixed-race')).map((e) => e.id);
    const idsA = racedA.map((e) => e.id);
    const idsB = racedB.map((e) => e.id);
    expect([idsA, idsB]).toContainEqual(stored);
    for (const own of ['run-mixed-a', 'run-mixed-b']) {
      expect((await writerB.read(own)).map((e) => e.seq)).toEqual(Array.from({ length: 1_500 }, (_, i) => i + 1));
    }
  });

  it('reads one run by its subject without the events of the others, across interleaved appends', async () => {
    const store = await openStore();
    const batch: EventEnvelope[] = [];
    for (let seq = 1; seq <= 50; seq++) batch.push(event('run-x', seq), event('run-y', seq));
    await store.append(batch);
    const x = await store.read('run-x');
    expect(x.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(x.every((e) => e.runId === 'run-x')).toBe(true);
  });

  it('lists runs with their status, counts and times', async () => {
    const store = await openStore();
    await store.append([
      event('run-done', 1, 'toolcall.requested', 500),
      event('run-done', 2, 'toolcall.succeeded', 900),
      event('run-open', 1, 'toolcall.requested', 600),
    ]);
    const runs = await store.runs();
    const done = runs.find((run) => run.runId === 'run-done');
    const open = runs.find((run) => run.runId === 'run-open');
    expect(done).toEqual({
      runId: 'run-done',
      status: 'succeeded',
      events: 2,
      lastSeq: 2,
      firstTs: 500,
      lastTs: 900,
      lastType: 'toolcall.succeeded',
    });
    expect(open?.status).toBe('running');
  });

  it('reads everything in stream order, and from a position on', async () => {
    const store = await openStore();
    const all = [];
    for await (const stored of store.readAll()) all.push(stored);
    expect(all.length).toBeGreaterThan(100);
    const positions = all.map((stored) => Number(stored.position));
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    const middle = all[50]!;
    const rest = [];
    for await (const stored of store.readAll(middle.position)) rest.push(stored);
    expect(rest).toEqual(all.slice(51));
  });

  it('tails live events of one run until the signal aborts', async () => {
    const store = await openStore();
    const controller = new AbortController();
    const received: EventEnvelope[] = [];
    const tailing = (async () => {
      for await (const live of store.tail({ runId: 'run-live', signal: controller.signal })) {
        received.push(live);
        if (received.length === 3) controller.abort();
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 200));
    await store.append([event('run-other', 1), ...[1, 2, 3].map((seq) => event('run-live', seq))]);
    await tailing;
    expect(received.map((e) => [e.runId, e.seq])).toEqual([
      ['run-live', 1],
      ['run-live', 2],
      ['run-live', 3],
    ]);
  });

  it('names the stream and sequence of a stored message that is not an event', async () => {
    const store = await openStore();
    const nc = await connect({ servers });
    const ack = await jetstream(nc).publish(store.subjectFor('run-bad'), new TextEncoder().encode('{"v":1,"id":"x"}'));
    await nc.close();
    await expect(store.read('run-bad')).rejects.toThrow(
      new RegExp(`${stream} seq ${ack.seq}: not an event envelope \\(runId: expected a string\\)`),
    );
  });

  it('refuses a run id that cannot be a subject token, with a clear error', async () => {
    const store = await openStore();
    await expect(store.append([event('bad.run', 1)])).rejects.toThrow(
      /run id "bad.run" cannot be a NATS subject token/,
    );
    await expect(store.read('run>')).rejects.toThrow(/cannot be a NATS subject token/);
  });

  it('says so when the server has no JetStream', async () => {
    const server = await startPrivateNatsServer({ jetStream: false });
    try {
      await expect(createJetStreamStore({ servers: server.url, stream })).rejects.toThrow(
        /does not have JetStream enabled/,
      );
    } finally {
      await server.dispose();
    }
  });

  it('says so when NATS cannot be reached', async () => {
    await expect(createJetStreamStore({ servers: 'nats://127.0.0.1:1' })).rejects.toThrow(/cannot reach NATS/);
  });
});
