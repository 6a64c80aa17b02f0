// A shell_command step's process: argv run directly (no shell), env and cwd, output captured, killed when aborted.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface ShellCommandRequest {
  argv: readonly string[];
  /** Added to the runtime's environment. */
  env: Record<string, string>;
  cwd: string;
  signal: AbortSignal;
  /** Bytes kept of each of stdout and stderr; the rest is counted, not kept. */
  maxOutputBytes?: number;
}

export interface ShellCommandResult {
  exit_code: number | null;
  /** The signal that ended the process, when one did. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

export type ShellCommandFailure =
  | { kind: 'not_found'; message: string }
  | { kind: 'spawn'; message: string }
  | { kind: 'cancelled'; message: string; output: ShellCommandResult };

const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
/** After SIGTERM, how long a process gets to end before SIGKILL. */
const KILL_GRACE_MS = 2000;

/**
 * The program to run: a bare name that is a file in the workflow's directory runs that file (seed 004's
 * `flaky-command.sh` sits beside its workflow); other bare names are looked up on PATH.
 */
export function resolveProgram(program: string, baseDir: string): string {
  if (program.includes('/') || isAbsolute(program)) return isAbsolute(program) ? program : join(baseDir, program);
  const beside = join(baseDir, program);
  return existsSync(beside) ? beside : program;
}

/** Runs the command to its end; resolves with its exit code and output, rejects with a ShellCommandFailure. */
export function runShellCommand(request: ShellCommandRequest): Promise<ShellCommandResult> {
  const [program, ...args] = request.argv;
  if (program === undefined || program === '') {
    return Promise.reject({ kind: 'spawn', message: 'the command is empty' } satisfies ShellCommandFailure);
  }
  const limit = request.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  return new Promise((resolve, reject) => {
    if (request.signal.aborted) {
      reject({
        kind: 'cancelled',
        message: 'cancelled before it started',
        output: { exit_code: null, signal: null, stdout: '', stderr: '' },
      } satisfies ShellCommandFailure);
      return;
    }
    const child = spawn(program, args, {
      cwd: request.cwd,
      env: { ...process.env, ...request.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: false,
    });
    const stdout = collector(limit);
    const stderr = collector(limit);
    child.stdout.on('data', stdout.add);
    child.stderr.on('data', stderr.add);
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      aborted = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    request.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', (error: NodeJS.ErrnoException) => {
      request.signal.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') reject({ kind: 'not_found', message: `${program}: command not found` });
      else reject({ kind: 'spawn', message: `${program}: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      request.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      const output = { exit_code: code, signal, stdout: stdout.text(), stderr: stderr.text() };
      if (aborted) reject({ kind: 'cancelled', message: `${program} was stopped`, output });
      else resolve(output);
    });
  });
}

function collector(limit: number): { add: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  return {
    add(chunk) {
      const room = limit - kept;
      if (room <= 0) {
        dropped += chunk.length;
        return;
      }
      const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
      chunks.push(part);
      kept += part.length;
      dropped += chunk.length - part.length;
    },
    text() {
      const text = Buffer.concat(chunks).toString('utf8');
      return dropped > 0 ? `${text}\n… ${dropped} more bytes not kept` : text;
    },
  };
}
