// JetStream append and restore rates (`npx tsx bench/jetStream.bench.ts`): the store beside core publish and awaited js.publish; prints JSON.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { EventEnvelope } from '../src/events/envelope.js';
import { createJetStreamStore } from '../src/store/jetStreamStore.js';

const servers = process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
const tag = randomBytes(4).toString('hex');
const stream = `RETRACE_BENCH_${tag}`;
const subjectPrefix = `retrace.bench${tag}.events`;
const data = { server: 'fault', tool: 'flaky', attempt: 1, note: 'x'.repeat(120) };

function events(runs: number, perRun: number, label: string): EventEnvelope[] {
  const list: EventEnvelope[] = [];
  for (let seq = 1; seq <= perRun; seq++) {
    for (let run = 0; run < runs; run++) {
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

async function rate(count: number, work: () => Promise<void>): Promise<number> {
  const began = performance.now();
  await work();
  return Math.round(count / ((performance.now() - began) / 1000));
}

const nc = await connect({ servers });
const jsm = await jetstreamManager(nc);
const store = await createJetStreamStore({ servers, stream, subjectPrefix });
const encoder = new TextEncoder();
const results: Record<string, number> = {};
try {
  const payloads = events(1, 100_000, 'core').map((event) => encoder.encode(JSON.stringify(event)));
  results['core nc.publish + flush (events/s)'] = await rate(payloads.length, async () => {
    for (const payload of payloads) nc.publish(`retrace.bench${tag}.core`, payload);
    await nc.flush();
  });

  const js = jetstream(nc);
  const naive = events(1, 5_000, 'naive');
  results['awaited js.publish per event (events/s)'] = await rate(naive.length, async () => {
    for (const event of naive) {
      await js.publish(`${subjectPrefix}.${event.runId}`, encoder.encode(JSON.stringify(event)), { msgID: event.id });
    }
  });

  const oneRun = events(1, 50_000, 'single');
  results['store.append, one run (events/s)'] = await rate(oneRun.length, () => store.append(oneRun));

  for (const runs of [100, 1_000]) {
    const many = events(runs, 100_000 / runs, `many${runs}`);
    results[`store.append, ${runs} runs × ${100_000 / runs} (events/s)`] = await rate(many.length, () =>
      store.append(many),
    );
  }

  results['store.read one run of 50,000 (events/s)'] = await rate(50_000, async () => {
    const read = await store.read('single-0');
    if (read.length !== 50_000) throw new Error(`read ${read.length} events`);
  });
  const targets = {
    append: '≥ 50,000 acknowledged events/s (store.append rows)',
    restore: '≥ 50,000 events/s (store.read row)',
  };
  console.log(JSON.stringify({ benchmark: 'jetstream', servers, loadAverage: loadavg(), targets, results }, null, 2));
} finally {
  await store.close();
  await jsm.streams.delete(stream).catch(() => false);
  await nc.close();
}
