// The built `retrace` command (node dist/cli/main.js) as a child that may be killed with SIGKILL at a chosen point:
// after it printed N lines on stdout, plus a few milliseconds, the whole process group (the CLI and the stdio
// servers it spawned) is killed, as if the machine had stopped.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { nextRandom } from '../../src/policy/random.js';
import { processGroupAlive } from './processGroup.js';
import { repoRoot } from './servers.js';

export const distMain = join(repoRoot, 'dist', 'cli', 'main.js');
export const distExampleServer = join(repoRoot, 'dist', 'examples', 'exampleServerMain.js');

/** Refuses to run the crash tests on sources that were not built: they run the built command. */
export function requireBuild(): void {
  for (const file of [distMain, distExampleServer]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` before the CLI crash tests`);
  }
}

export interface KillPoint {
  /** Kill once this many lines were printed on stdout. */
  afterLines: number;
  /** And this many milliseconds more (real time: where in the work after that line the kill lands). */
  delayMs: number;
}

export interface ChildRun {
  killed: boolean;
  code: number | null;
  lines: string[];
  stderr: string;
}

export interface ChildOptions {
  cwd: string;
  env: Record<string, string>;
  kill?: KillPoint | undefined;
  timeoutMs?: number;
}

/** Runs `node dist/cli/main.js ARGS`; resolves once it and every process of its group are gone. */
export async function runChild(args: string[], options: ChildOptions): Promise<ChildRun> {
  const child = spawn(process.execPath, [distMain, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own: a kill takes down the servers the CLI spawned with it.
    detached: true,
  });
  const pid = child.pid ?? -1;
  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  let killed = false;
  let timer: NodeJS.Timeout | undefined;
  const { kill } = options;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (kill && !killed && timer === undefined && lines.length >= kill.afterLines) {
      timer = setTimeout(() => {
        killed = true;
        killGroup();
      }, kill.delayMs);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const code = await new Promise<number | null>((resolve, reject) => {
    const limit = setTimeout(() => {
      killGroup();
      reject(new Error(`retrace ${args.join(' ')} did not exit within ${timeoutMs} ms\nstderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (exitCode) => {
      clearTimeout(limit);
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (partial !== '') lines.push(partial);
  // The servers of a killed CLI die with it; one that ended normally closed them. Either way: gone before we look.
  while (processGroupAlive(pid)) await sleep(10);
  return { killed, code, lines, stderr };
}

/** The same seed, the same kill points (src/policy/random.ts's generator). */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    const next = nextRandom(state);
    state = next.state;
    return next.value;
  };
}
