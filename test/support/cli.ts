// Runs the `retrace` command as a real child process (node + tsx on src/cli/main.ts) in a scratch directory.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test as base } from 'vitest';
import { stringify } from 'yaml';
import type { StdioServerConfig } from '../../src/actors/serverConfig.js';
import { processesMarked, processGroupAlive } from './processGroup.js';
import { repoRoot } from './servers.js';

/** The tsx loader as an absolute URL: a bare `--import tsx` would resolve from the scratch directory and miss it. */
export const tsxLoader = import.meta.resolve('tsx');
export const cliMain = join(repoRoot, 'src', 'cli', 'main.ts');

/** Every process a workspace starts carries this variable (value: its directory), so leftovers can be found. */
export const markerVariable = 'RETRACE_CLI_TEST';

export interface CliResult {
  /** Also the id of its process group, which the stdio servers it spawns join. */
  pid: number;
  /** The exit code; null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Hard limit: past it the whole process group is killed and the run rejects. */
  timeoutMs?: number;
}

/** `node --import tsx src/cli/main.ts ARGS` in `cwd`; resolves once it exited and both pipes are drained. */
export function runCli(args: string[], options: RunCliOptions): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  // A process group of its own, so a timeout also takes down the stdio servers the CLI spawned.
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (child.pid !== undefined) killGroup(child.pid);
      reject(
        new Error(
          `retrace ${args.join(' ')} did not exit within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ pid: child.pid ?? -1, code, signal, stdout, stderr });
    });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

export interface CliWorkspace {
  dir: string;
  /** The variable every process of this workspace carries: the CLI through its env, servers through `stdio()`. */
  marker: Record<string, string>;
  /** A stdio server entry for the config that carries the marker. */
  stdio(config: StdioServerConfig): StdioServerConfig;
  /** Writes `retrace.config.yaml`: text as is, an object through the YAML printer. */
  writeConfig(config: string | object): Promise<void>;
  run(args: string[], options?: Omit<RunCliOptions, 'cwd'>): Promise<CliResult>;
  /** What is still running: marked processes, and processes in the groups of the runs so far. */
  leftovers(): { marked: number[]; groups: number[] };
  remove(): Promise<void>;
}

/** A scratch directory to run the CLI in, with its own `retrace.config.yaml`. */
export async function createCliWorkspace(): Promise<CliWorkspace> {
  const dir = await mkdtemp(join(tmpdir(), 'retrace-cli-'));
  const marker = { [markerVariable]: dir };
  const runs: number[] = [];
  return {
    dir,
    marker,
    stdio: (config) => ({ ...config, env: { ...config.env, ...marker } }),
    async writeConfig(config) {
      await writeFile(join(dir, 'retrace.config.yaml'), typeof config === 'string' ? config : stringify(config));
    },
    async run(args, options = {}) {
      const result = await runCli(args, { ...options, cwd: dir, env: { ...marker, ...options.env } });
      runs.push(result.pid);
      return result;
    },
    leftovers: () => ({ marked: processesMarked(marker), groups: runs.filter(processGroupAlive) }),
    async remove() {
      // A safety net for a failed test; a passing one left nothing.
      for (const pid of runs.filter(processGroupAlive)) killGroup(pid);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `it` with a fresh workspace per test; afterwards nothing the test started may still run. A process is given a
 * moment to be reaped, but the CLI is expected to have stopped its servers before it exits.
 */
export const cliTest = base.extend<{ workspace: CliWorkspace }>({
  // eslint-disable-next-line no-empty-pattern -- vitest reads the fixture's dependencies from this pattern
  workspace: async ({}, use) => {
    const workspace = await createCliWorkspace();
    try {
      await use(workspace);
      let leftovers = workspace.leftovers();
      for (
        let waited = 0;
        waited < 1_000 && (leftovers.marked.length > 0 || leftovers.groups.length > 0);
        waited += 50
      ) {
        await sleep(50);
        leftovers = workspace.leftovers();
      }
      if (leftovers.marked.length > 0 || leftovers.groups.length > 0) {
        throw new Error(`processes left behind: ${JSON.stringify(leftovers)}`);
      }
    } finally {
      await workspace.remove();
    }
  },
});

/** Stdout parsed as the one JSON document the command printed. */
export function stdoutJson<T = Record<string, unknown>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Stderr as lines, without the empty last one. */
export function stderrLines(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line, index, lines) => line !== '' || index < lines.length - 1);
}
