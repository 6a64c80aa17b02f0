// Issue 4, JetStream figures: store.append beside core nc.publish and awaited js.publish of the same messages, and
// restoring one run; needs nats-server with JetStream at $RETRACE_NATS_URL (default nats://127.0.0.1:4222).
import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { EventEnvelope } from '../src/events/envelope.js';
import { createJetStreamStore, type JetStreamStore } from '../src/store/jetStreamStore.js';
import { figuresOf, type BenchOptions, type BenchReport } from './lib/figure.js';
import { median } from './lib/stats.js';

const benchmark = 'jetstream';
/** 50,000 events/s, as time per event (the figures' targets are upper bounds). */
const targetUsPerEvent = 20;
const data = { server: 'fault', tool: 'flaky', attempt: 1, note: 'x'.repeat(120) };
const encoder = new TextEncoder();

function eventsOf(runs: number, perRun: number, label: string): EventEnvelope[] {
  const list: EventEnvelope[] = [];
  for (let seq = 1; seq <= perRun; seq += 1) {
    for (let run = 0; run < runs; run += 1) {
      const runId = `${label}-${run}`;
      list.push({
        v: 1,
        id: `${runId}-${seq}`,
        runId,
        actorId: 'call',
        seq,
        ts: seq,
        type: 'toolcall.attempt.started',
        data,
      });
    }
  }
  return list;
}

/** Microseconds per event of `work` over `count` events. */
async function usPerEvent(count: number, work: () => Promise<void>): Promise<number> {
  const startedAt = performance.now();
  await work();
  return ((performance.now() - startedAt) * 1000) / count;
}

/** Connects, or fails at once with how to start NATS: never waits for a server that is not there. */
async function connectOrExplain(servers: string): Promise<NatsConnection> {
  try {
    return await connect({ servers, timeout: 3_000, maxReconnectAttempts: 0 });
  } catch (error) {
    throw new Error(
      `the jetstream benchmark needs NATS with JetStream at ${servers}, which is not reachable (${error instanceof Error ? error.message : String(error)}): start it with \`nats-server -js -a 127.0.0.1 -p 4222\`, or point RETRACE_NATS_URL at one, or leave it out with --only`,
      { cause: error },
    );
  }
}

interface Round {
  coreUs: number;
  naiveUs: number;
  oneRunUs: number;
  manyRunsUs: number;
  readUs: number;
}

async function round(nc: NatsConnection, store: JetStreamStore, sizes: Sizes, index: number): Promise<Round> {
  const prefix = store.subjectFor('x').slice(0, -2);
  const core = eventsOf(1, sizes.core, `core${index}`).map((event) => encoder.encode(JSON.stringify(event)));
  const coreUs = await usPerEvent(core.length, async () => {
    for (const payload of core) nc.publish(`${prefix}-core.${index}`, payload);
    await nc.flush();
  });
  const js = jetstream(nc);
  const naive = eventsOf(1, sizes.naive, `naive${index}`);
  const naiveUs = await usPerEvent(naive.length, async () => {
    for (const event of naive) {
      await js.publish(store.subjectFor(event.runId), encoder.encode(JSON.stringify(event)), { msgID: event.id });
    }
  });
  const oneRun = eventsOf(1, sizes.oneRun, `one${index}`);
  const oneRunUs = await usPerEvent(oneRun.length, () => store.append(oneRun));
  const many = eventsOf(sizes.runs, sizes.perRun, `many${index}`);
  const manyRunsUs = await usPerEvent(many.length, () => store.append(many));
  const readUs = await usPerEvent(oneRun.length, async () => {
    const read = await store.read(`one${index}-0`);
    if (read.length !== oneRun.length) throw new Error(`read ${read.length} events of ${oneRun.length}`);
  });
  return { coreUs, naiveUs, oneRunUs, manyRunsUs, readUs };
}

interface Sizes {
  core: number;
  naive: number;
  oneRun: number;
  runs: number;
  perRun: number;
}

export async function run(options: BenchOptions): Promise<BenchReport> {
  const servers = process.env['RETRACE_NATS_URL'] ?? 'nats://127.0.0.1:4222';
  const rounds = options.long ? 5 : 3;
  const sizes: Sizes = options.long
    ? { core: 100_000, naive: 5_000, oneRun: 50_000, runs: 100, perRun: 1_000 }
    : { core: 50_000, naive: 2_000, oneRun: 20_000, runs: 100, perRun: 200 };
  const nc = await connectOrExplain(servers);
  const jsm = await jetstreamManager(nc);
  const tag = randomBytes(4).toString('hex');
  const stream = `RETRACE_BENCH_${tag}`;
  const rows: Round[] = [];
  let store: JetStreamStore | undefined;
  try {
    store = await createJetStreamStore({ servers, stream, subjectPrefix: `retrace.bench${tag}.events` });
    for (let index = 0; index < rounds; index += 1) rows.push(await round(nc, store, sizes, index));
  } finally {
    await store?.close();
    await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  }

  const of = (key: keyof Round): number => median(rows.map((row) => row[key]));
  const figure = figuresOf(benchmark);
  const naive = { name: 'awaited js.publish per event', value: of('naiveUs') };
  const core = { name: 'core nc.publish + flush, no ack', value: of('coreUs') };
  const target = { atMost: targetUsPerEvent };
  const many = `${sizes.runs} runs × ${sizes.perRun}`;
  return {
    benchmark,
    figures: [
      figure('store.append, one run (µs per acknowledged event; 20 = 50,000/s)', of('oneRunUs'), 'µs', {
        baseline: naive,
        target,
      }),
      figure(`store.append, ${many} side by side (µs per acknowledged event)`, of('manyRunsUs'), 'µs', {
        baseline: naive,
        target,
      }),
      figure('store.append, one run, beside core publish', of('oneRunUs'), 'µs', { baseline: core }),
      figure(`store.read, one run of ${sizes.oneRun} (µs per event; 20 = 50,000/s)`, of('readUs'), 'µs', { target }),
      figure('store.append, one run: events/s', 1e6 / of('oneRunUs'), 'calls/s'),
      figure(`store.append, ${many}: events/s`, 1e6 / of('manyRunsUs'), 'calls/s'),
      figure('store.read, one run: events/s', 1e6 / of('readUs'), 'calls/s'),
    ],
    details: { servers, sizes, rounds: rows },
  };
}
