// /healthz, /readyz and the token: readiness follows a NATS server of our own going away and coming back, and the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { isRetraceError } from '../../src/common/errors.js';
import { createNatsBus } from '../../src/events/natsBus.js';
import { createObservabilityServer, type ObservabilityServer } from '../../src/server/http/observabilityServer.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { startPrivateNatsServer } from '../support/natsServer.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function openLog(): Promise<FileLog> {
  const dir = mkdtempSync(join(tmpdir(), 'retrace-health-'));
  const log = await createFileLog({ dir });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => log.close());
  return log;
}

const LOG = 'the log accepts appends (open, no failed write or fsync)';
const METRICS = "the metrics have folded the log's stored events";
const NATS = 'connected to NATS';

interface ReadyBody {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function readyz(server: ObservabilityServer): Promise<{ status: number; body: ReadyBody }> {
  const response = await fetch(`${server.url}/readyz`);
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/** Polls /readyz (real servers changing state, bounded) until it answers `status`. */
async function readyzBecomes(server: ObservabilityServer, status: number): Promise<ReadyBody> {
  let last: { status: number; body: ReadyBody } | undefined;
  for (let i = 0; i < 1_000; i += 1) {
    last = await readyz(server);
    if (last.status === status) return last.body;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`/readyz stayed ${String(last?.status)}: ${JSON.stringify(last?.body)}`);
}

describe('/healthz and /readyz', () => {
  it('answers alive, and ready with the log writable and the history folded', async () => {
    const log = await openLog();
    const runtime = createRuntime({ store: log });
    cleanups.push(() => runtime.close());
    const server = await createObservabilityServer({ runtime, store: log, processMetrics: false });
    cleanups.push(() => server.close());

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toContain('application/json');
    expect(await health.json()).toEqual({ status: 'alive', pid: process.pid });
    expect(await readyzBecomes(server, 200)).toEqual({
      ready: true,
      checks: { log: { ok: true, what: LOG }, metrics: { ok: true, what: METRICS } },
    });

    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ pages: ['/metrics', '/healthz', '/readyz'] });
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);

    await log.close();
    const closed = await readyz(server);
    expect(closed.status).toBe(503);
    expect(closed.body.checks['log']).toEqual({
      ok: false,
      what: LOG,
      detail: expect.stringContaining('is closed') as string,
    });
  });

  it('turns unready when its NATS server goes away and ready again when it is back', async () => {
    const nats = await startPrivateNatsServer({ jetStream: false });
    cleanups.push(() => nats.dispose());
    const log = await openLog();
    const bus = await createNatsBus({ servers: nats.url, store: log, reconnectTimeWaitMs: 20, warn: () => undefined });
    cleanups.push(() => bus.close());
    const runtime = createRuntime({ store: log, bus });
    cleanups.push(() => runtime.close());
    const server = await createObservabilityServer({ runtime, store: log, bus, processMetrics: false });
    cleanups.push(() => server.close());

    expect((await readyzBecomes(server, 200)).checks['nats']).toEqual({ ok: true, what: NATS });
    await nats.kill();
    const down = await readyzBecomes(server, 503);
    expect(down).toEqual({
      ready: false,
      checks: {
        log: { ok: true, what: LOG },
        metrics: { ok: true, what: METRICS },
        nats: { ok: false, what: NATS, detail: 'not connected to NATS' },
      },
    });
    await nats.restart();
    expect((await readyzBecomes(server, 200)).checks['nats']).toEqual({ ok: true, what: NATS });
  });

  it('refuses to bind beyond loopback without a token, and with one refuses requests without it', async () => {
    const log = await openLog();
    const runtime = createRuntime({ store: log });
    cleanups.push(() => runtime.close());
    const refused = await createObservabilityServer({ runtime, store: log, host: '0.0.0.0' }).catch(
      (error: unknown) => error,
    );
    expect(isRetraceError(refused) && refused.message).toMatch(
      /binding 0\.0\.0\.0 \(beyond loopback\) requires a token/,
    );

    const server = await createObservabilityServer({
      runtime,
      store: log,
      host: '0.0.0.0',
      token: 's3cret',
      processMetrics: false,
    });
    cleanups.push(() => server.close());
    const local = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${local}/healthz`)).status).toBe(401);
    expect((await fetch(`${local}/healthz`, { headers: { authorization: 'Bearer wrong!' } })).status).toBe(401);
    expect((await fetch(`${local}/healthz`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
  });
});
