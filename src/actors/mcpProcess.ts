// The stdio server's process: the tail of its stderr for failure messages, and a shutdown that leaves no orphan.
import { ChildProcess } from 'node:child_process';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const maxLineLength = 500;

/** The SDK's stdio transport keeps its child private; exit codes and a clean shutdown need it. */
export class ObservedStdioTransport extends StdioClientTransport {
  onSpawn: ((child: ChildProcess) => void) | undefined;

  override start(): Promise<void> {
    const started = super.start();
    // The SDK assigns the child synchronously inside start(); checked at run time, not cast.
    const child: unknown = Reflect.get(this, '_process');
    if (child instanceof ChildProcess) this.onSpawn?.(child);
    return started;
  }
}

/** Keeps the last lines a process wrote to stderr. */
export class StderrTail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly maxLines: number) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const lines = text.split(/\r?\n/);
    this.partial = (lines.pop() ?? '').slice(-maxLineLength);
    for (const line of lines) this.keep(line);
  }

  lines(): string[] {
    return this.partial ? [...this.kept, this.partial] : [...this.kept];
  }

  /** The line most likely to explain a crash: the last one naming an error, else the last one. */
  mostTelling(): string | undefined {
    const lines = this.lines().filter((line) => line.trim() !== '');
    return lines.findLast((line) => /error|cannot|denied|not found/i.test(line)) ?? lines.at(-1);
  }

  private keep(line: string): void {
    this.kept.push(line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line);
    if (this.kept.length > this.maxLines) this.kept.shift();
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Closes stdin (a well-behaved server exits), then SIGTERM, then SIGKILL; resolves once the process is gone. */
export async function stopChildProcess(child: ChildProcess, graceMs = 1_000): Promise<void> {
  if (child.pid === undefined || hasExited(child)) return;
  child.stdin?.end();
  if (await exitsWithin(child, graceMs)) return;
  child.kill('SIGTERM');
  if (await exitsWithin(child, 2_000)) return;
  child.kill('SIGKILL');
  await exitsWithin(child, 2_000);
}

function exitsWithin(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (hasExited(child)) {
      resolve(true);
      return;
    }
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    // Real time on purpose: this is process housekeeping, not a policy the simulated clock should drive.
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    child.once('exit', onExit);
  });
}
