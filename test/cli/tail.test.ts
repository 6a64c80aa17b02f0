// `retrace tail`: stored events from a position, then live ones over NATS, each once across the switch.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { describe, expect } from 'vitest';
import { isRetraceError } from '../../src/common/errors.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createNatsBus } from '../../src/events/natsBus.js';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { cliMain, cliTest as it, stdoutJson, tsxLoader, type CliWorkspace } from '../support/cli.js';
import { requireSharedNats } from '../support/natsServer.js';
import { flakyStdioConfig } from '../support/servers.js';
import { envelope } from '../store/fileLogEvents.js';

const tag = randomBytes(4).toString('hex');
const subjectPrefix = `retrace.tail${tag}.events`;

function event(runId: string, seq: number): EventEnvelope {
  return envelope(runId, seq, { actorId: 'call-1', data: {} });
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The file log of `dir`, once no other process holds it. */
async function openLog(dir: string): Promise<FileLog> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await createFileLog({ dir });
    } catch (error) {
      const locked = isRetraceError(error) && error.code === 'E_LOG_LOCKED';
      if (!locked || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** `retrace tail ARGS --json` running in the workspace, its stdout read line by line as `runId:seq`. */
function startTail(workspace: CliWorkspace, args: string[]) {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'tail', ...args, '--json'], {
    cwd: workspace.dir,
    env: { ...process.env, ...workspace.marker },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    printed: (): string[] =>
      stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const parsed = JSON.parse(line) as EventEnvelope;
          return `${parsed.runId}:${parsed.seq}`;
        }),
    stderr: () => stderr,
    /** SIGINT, as Ctrl-C; resolves with the exit code. */
    stop(): Promise<number | null> {
      child.kill('SIGINT');
      return exited;
    },
  };
}

describe('retrace tail', () => {
  it(
    'prints the stored events after --from, then live ones, each once across the switch',
    { timeout: 180_000 },
    async ({ workspace }) => {
      const nats = await requireSharedNats();
      await workspace.writeConfig({ nats: { url: nats, subject_prefix: subjectPrefix }, store: 'file' });
      const dataDir = join(workspace.dir, '.retrace');
      let log = await openLog(dataDir);
      await log.append([1, 2, 3, 4, 5].map((seq) => event('run-a', seq)));
      const positions: string[] = [];
      for await (const stored of log.readAll()) positions.push(stored.position);
      await log.close();

      const tail = startTail(workspace, ['--from', positions[1] ?? '']);
      const printed = tail.printed;
      try {
        await until(() => printed().length >= 3, `the stored events (stderr: ${tail.stderr()})`);
        expect(printed()).toEqual(['run-a:3', 'run-a:4', 'run-a:5']);

        // A writer appends and publishes; copies of events the tail printed from the log arrive again first.
        log = await openLog(dataDir);
        const bus = await createNatsBus({ servers: nats, subjectPrefix, store: log });
        const raw = await connect({ servers: nats });
        for (const seq of [4, 5])
          raw.publish(`${subjectPrefix}.run-a.toolcall.attempt.started`, JSON.stringify(event('run-a', seq)));
        await raw.flush();
        await raw.close();
        for (const next of [event('run-a', 6), event('run-b', 1), event('run-a', 7), event('run-b', 2)]) {
          await log.append([next]);
          bus.publish(next);
        }
        await bus.flush();
        await until(() => printed().length >= 7, `the live events (stderr: ${tail.stderr()})`);
        await bus.close();
        await log.close();
        expect(printed()).toEqual(['run-a:3', 'run-a:4', 'run-a:5', 'run-a:6', 'run-b:1', 'run-a:7', 'run-b:2']);
      } finally {
        expect(await tail.stop(), tail.stderr()).toBe(0);
      }
    },
  );

  it(
    'follows a `retrace call` recorded in the file log and published because nats: is configured',
    { timeout: 180_000 },
    async ({ workspace }) => {
      const nats = await requireSharedNats();
      await workspace.writeConfig({
        servers: { flaky: workspace.stdio(flakyStdioConfig()) },
        nats: { url: nats, subject_prefix: subjectPrefix },
      });
      // Whether the call's events come from the log (--since) or live depends on timing; each is printed once either way.
      const tail = startTail(workspace, ['--since', '1h']);
      try {
        const call = await workspace.run(['call', 'flaky', 'flaky', '--arg', 'key=t', '--arg', 'failures=0', '-q']);
        expect(call.code, call.stderr).toBe(0);
        const { runId } = stdoutJson<{ runId: string }>(call);
        const runs = await workspace.run(['runs', '--json']);
        const [run] = stdoutJson<Array<{ runId: string; events: number }>>(runs);
        expect(run?.runId).toBe(runId);
        const expected = Array.from({ length: run?.events ?? 0 }, (_, i) => `${runId}:${i + 1}`);
        expect(expected.length).toBeGreaterThan(2);
        await until(() => tail.printed().length >= expected.length, `the call's events (stderr: ${tail.stderr()})`);
        expect(tail.printed()).toEqual(expected);
      } finally {
        expect(await tail.stop(), tail.stderr()).toBe(0);
      }
    },
  );

  it(
    'prints stored events with their positions from the file log alone, and refuses to follow it live without NATS',
    { timeout: 180_000 },
    async ({ workspace }) => {
      const log = await openLog(join(workspace.dir, '.retrace'));
      await log.append([event('run-a', 1), event('run-b', 1), event('run-a', 2)]);
      const positions: string[] = [];
      for await (const stored of log.readAll()) positions.push(stored.position);
      await log.close();

      const stored = await workspace.run(['tail', '--from', positions[0] ?? '', '--run', 'run-a']);
      expect(stored.code, stored.stderr).toBe(0);
      expect(stored.stdout.trim().split('\n')).toEqual([
        `${positions[2]}  2023-11-14T22:13:20.002Z  run-a  #2  toolcall.attempt.started`,
      ]);

      const live = await workspace.run(['tail']);
      expect(live.code).not.toBe(0);
      expect(live.stderr).toMatch(
        /live events of the file log come over NATS.*nats\.url or pass --nats URL --store file/,
      );

      const both = await workspace.run(['tail', '--from', positions[0] ?? '', '--since', '5m']);
      expect(both.stderr).toMatch(/--from and --since: give one of them/);
      const badPosition = await workspace.run(['tail', '--from', 'yesterday']);
      expect(badPosition.stderr).toMatch(/not a file log position: yesterday/);
    },
  );
});
