// Real MCP servers for tests: the flaky server over stdio or HTTP, and @modelcontextprotocol/server-everything.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { HttpServerConfig, StdioServerConfig } from '../../src/actors/serverConfig.js';
import { startFlakyHttpServer } from '../../src/testing/flakyHttpHost.js';
import type { FlakyHttpOptions, FlakyHttpServer } from '../../src/testing/flakyHttpHost.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const flakyMain = join(repoRoot, 'src', 'testing', 'flakyServerMain.ts');

/** The flaky server as a stdio child: `node --import tsx src/testing/flakyServerMain.ts …`. */
export function flakyStdioConfig(extraArgs: string[] = [], env?: Record<string, string>): StdioServerConfig {
  const config: StdioServerConfig = {
    command: process.execPath,
    args: ['--import', 'tsx', flakyMain, ...extraArgs],
    cwd: repoRoot,
  };
  if (env) config.env = env;
  return config;
}

/** The flaky server hosted over Streamable HTTP in this process, on 127.0.0.1 and a free port. */
export function startFlakyHttp(options: FlakyHttpOptions = {}): Promise<FlakyHttpServer> {
  return startFlakyHttpServer({ port: 0, host: '127.0.0.1', ...options });
}

export interface FlakyHttpProcess {
  url: string;
  config: HttpServerConfig;
  child: ChildProcess;
  /** Kills the process and waits for it to be gone. */
  kill(): Promise<void>;
}

/** The flaky server's executable with `--http 0`, for tests where the server process itself goes away. */
export async function spawnFlakyHttp(options: { port?: number; args?: string[] } = {}): Promise<FlakyHttpProcess> {
  const args = ['--import', 'tsx', flakyMain, '--http', String(options.port ?? 0), ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^listening (\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`flaky HTTP server exited with code ${code} before listening`)));
  });
  return {
    url,
    config: { url },
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone;
    },
  };
}

/** server-everything over stdio; its launcher takes the transport as its first argument. */
export function serverEverythingConfig(): StdioServerConfig {
  const entry = join(repoRoot, 'node_modules', '@modelcontextprotocol', 'server-everything', 'dist', 'index.js');
  if (!existsSync(entry))
    throw new Error(`@modelcontextprotocol/server-everything is not installed (looked for ${entry})`);
  return { command: process.execPath, args: [entry, 'stdio'], cwd: repoRoot };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a process id is still alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of this process's children whose command line contains `fragment` (Linux /proc). */
export function childPidsMatching(fragment: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The parent pid is the second field after the parenthesised command name.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (parent === process.pid && commandLine.includes(fragment)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
