// Crash: a child appending under load is killed with SIGKILL at random moments; every append it saw resolve survives.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createFileLog } from '../../src/store/fileLog.js';
import { envelope, scratchDir } from './fileLogEvents.js';

const childScript = fileURLToPath(new URL('../support/fileLogChild.ts', import.meta.url));
let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

/** Runs the child until it has reported `appends` resolved appends plus a random extra moment, then SIGKILLs it. */
function runAndKill(appends: number, extraMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), childScript, dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    let reported = 0;
    let resolvedCount = 0;
    let killScheduled = false;
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('ready')) continue;
        reported = Math.max(reported, Number(line));
        resolvedCount += 1;
      }
      if (!killScheduled && resolvedCount >= appends) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), extraMs);
      }
    });
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code ?? signal}: ${stderr}`));
      else resolve(reported);
    });
  });
}

it('keeps every append the child saw resolve across SIGKILLs, cuts torn tails and appends on', async () => {
  let highestReported = 0;
  for (let round = 0; round < 5; round += 1) {
    const reported = await runAndKill(50 + Math.floor(Math.random() * 500), Math.floor(Math.random() * 20));
    highestReported = Math.max(highestReported, reported);
    const log = await createFileLog({ dir });
    expect(log.recoveryReport.corrupt).toEqual([]);
    const seqs = (await log.read('crash')).map((event) => event.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(highestReported);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    await log.close();
  }
  const log = await createFileLog({ dir });
  const lastSeq = (await log.runs()).find((run) => run.runId === 'crash')?.lastSeq ?? 0;
  await log.append([envelope('crash', lastSeq + 1)]);
  expect((await log.read('crash', lastSeq + 1)).map((event) => event.seq)).toEqual([lastSeq + 1]);
  await log.close();
}, 60_000);
