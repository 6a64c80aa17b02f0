// `retrace serve` as a child process of a CLI workspace: started, its URL awaited (bounded), stopped by a signal.
import { spawn } from 'node:child_process';
import { vi } from 'vitest';
import { cliMain, tsxLoader, type CliWorkspace } from './cli.js';

/** A three-step workflow that counts to 2 with no tool: what the serve tests run beside the watcher. */
export const counterWorkflow = `name: counter
state: { raw: { count: 0 } }
steps:
  - { id: one, type: state_update, path: raw.count, operation: increment, value: 1 }
  - { id: two, type: state_update, path: raw.count, operation: increment, value: 1 }
  - { id: done, type: return, value: '{{ state.raw.count }}' }
`;

export interface ServeChild {
  /** `http://127.0.0.1:PORT`, as it printed it. */
  url: string;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and resolves with the exit code (null: a signal ended it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `retrace serve --port 0 ARGS` in the workspace, once it printed its URL. */
export async function startServe(workspace: CliWorkspace, args: string[] = []): Promise<ServeChild> {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'serve', '--port', '0', ...args], {
    cwd: workspace.dir,
    env: { ...process.env, ...workspace.marker, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let ended = false;
  void exited.then(() => (ended = true));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (!ended) child.kill(signal);
    return exited;
  };
  try {
    const url = await vi.waitFor(
      () => {
        if (ended) throw new Error(`retrace serve exited before printing its URL; stderr:\n${stderr}`);
        const printed = /retrace serve: (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
        if (printed === undefined) throw new Error(`no URL printed yet; stderr:\n${stderr}`);
        return printed;
      },
      { timeout: 60_000, interval: 10 },
    );
    return { url, pid: child.pid ?? -1, stdout: () => stdout, stderr: () => stderr, stop };
  } catch (error) {
    await stop('SIGKILL');
    throw error;
  }
}
