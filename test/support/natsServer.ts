// Real nats-server processes for tests: the shared one on 127.0.0.1:4222, or a private one we start, kill and restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export const SHARED_NATS_URL = 'nats://127.0.0.1:4222';
const NATS_SERVER_BINARY = process.env['NATS_SERVER_BIN'] ?? '/usr/sbin/nats-server';

/** Fails with a clear message when the shared NATS (CI starts it) is not reachable. */
export async function requireSharedNats(): Promise<string> {
  if (!(await portOpen(4222))) {
    throw new Error(
      'NATS is not reachable on 127.0.0.1:4222: these tests need a real nats-server with JetStream (`nats-server -js -a 127.0.0.1`), which CI starts',
    );
  }
  return SHARED_NATS_URL;
}

export interface ThrowawayStream {
  stream: string;
  subjectPrefix: string;
  /** Deletes the stream (gone already is fine). */
  remove(servers: string): Promise<void>;
}

/** A JetStream stream name and subject prefix of a test's own on the shared NATS (`RETRACE_<NAME>_<random>`). */
export function throwawayStream(name: string): ThrowawayStream {
  const tag = randomBytes(4).toString('hex');
  const stream = `RETRACE_${name.toUpperCase()}_${tag}`;
  return {
    stream,
    subjectPrefix: `retrace.${name.toLowerCase()}${tag}.events`,
    async remove(servers) {
      const nc = await connect({ servers });
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    },
  };
}

export interface PrivateNatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** SIGKILL, and wait until the port is closed. */
  kill(): Promise<void>;
  /** Start again on the same port and store directory. */
  restart(): Promise<void>;
  /** Kill it and remove the store directory. */
  dispose(): Promise<void>;
}

export async function startPrivateNatsServer(options: { jetStream?: boolean } = {}): Promise<PrivateNatsServer> {
  const jetStream = options.jetStream ?? true;
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'retrace-nats-'));
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const args = ['-a', '127.0.0.1', '-p', String(port)];
    if (jetStream) args.push('-js', '-sd', storeDir);
    const proc = spawn(NATS_SERVER_BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child = proc;
    const deadline = Date.now() + 10_000;
    while (!(await portOpen(port))) {
      if (proc.exitCode !== null) throw new Error(`nats-server exited (${proc.exitCode}): ${stderr}`);
      if (Date.now() > deadline) throw new Error(`nats-server did not listen on ${port} within 10 s: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGKILL');
    await exited;
    while (await portOpen(port)) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    kill,
    restart: start,
    dispose: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
