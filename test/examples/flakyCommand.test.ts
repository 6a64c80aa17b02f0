// Seed 004's flaky-command.sh: fails the first N runs, counting them in a file, then succeeds; plain POSIX sh.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/servers.js';

const script = join(repoRoot, 'examples', 'error-handling', 'flaky-command.sh');
let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'retrace-flaky-command-'));
});
afterEach(() => rm(directory, { recursive: true, force: true }));

function run(env: Record<string, string>, shell?: string) {
  const [command, args] = shell === undefined ? [script, []] : [shell, [script]];
  const result = spawnSync(command, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('flaky-command.sh', () => {
  it('is executable and fails the first two runs by default, then succeeds, counting in the file', async () => {
    accessSync(script, constants.X_OK);
    const counter = join(directory, 'count');
    const codes = [1, 2, 3, 4].map(() => run({ FLAKY_COUNTER_FILE: counter }).code);
    expect(codes).toEqual([1, 1, 0, 0]);
    expect((await readFile(counter, 'utf8')).trim()).toBe('4');
  });

  it('takes the number of failures and the exit code from the environment, and says why it failed', () => {
    const env = { FLAKY_COUNTER_FILE: join(directory, 'count'), FLAKY_FAILURES: '1', FLAKY_EXIT_CODE: '75' };
    const failed = run(env);
    expect(failed.code).toBe(75);
    expect(failed.stderr).toMatch(/attempt 1 failed: connection refused/);
    expect(run(env)).toMatchObject({ code: 0, stdout: 'flaky-command: attempt 2 succeeded\n' });
  });

  it('runs under dash, a shell without bashisms', () => {
    if (!existsSync('/usr/bin/dash') && !existsSync('/bin/dash')) throw new Error('dash is not installed');
    const counter = join(directory, 'count');
    expect(run({ FLAKY_COUNTER_FILE: counter, FLAKY_FAILURES: '0' }, 'dash').code).toBe(0);
  });

  it('refuses to run without a counter file or with a count that is not a number', () => {
    expect(run({})).toMatchObject({ code: 64, stderr: expect.stringMatching(/set FLAKY_COUNTER_FILE/) });
    expect(run({ FLAKY_COUNTER_FILE: join(directory, 'c'), FLAKY_FAILURES: 'two' }).code).toBe(64);
  });
});
