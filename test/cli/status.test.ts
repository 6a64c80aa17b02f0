// `retrace status` and `retrace cancel` from another process while a real `retrace run` child holds the log.
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliMain, cliTest as it, runCli, stdoutJson, tsxLoader, type CliWorkspace } from '../support/cli.js';

const slow = `name: slow
state: { phase: idle }
steps:
  - { id: mark, type: state_update, path: phase, value: waiting }
  - id: hold
    type: wait
    duration: 10m
    cleanup:
      - { id: tidy, type: state_update, path: cleaned, value: true }
  - { id: done, type: return, value: finished }
`;

const quick = `name: quick
state: { n: 0 }
steps:
  - { id: bump, type: state_update, path: n, operation: increment }
  - { id: done, type: return, value: { n: '{{ state.n }}' } }
`;

interface RunChild {
  /** Resolves once a stdout line satisfies `test`. */
  waitForLine(test: (line: string) => boolean): Promise<string>;
  /** The exit code and every stdout line, once it exited. */
  exited: Promise<{ code: number | null; lines: string[]; stderr: string }>;
  kill(): void;
}

/** `retrace run ARGS` as a child process left running (its own process group, the workspace's marker). */
function startRun(workspace: CliWorkspace, args: string[]): RunChild {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliMain, 'run', ...args], {
    cwd: workspace.dir,
    env: { ...process.env, NO_COLOR: '1', ...workspace.marker },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set<{ test: (line: string) => boolean; resolve: (line: string) => void }>();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters) {
        if (waiter.test(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ code: number | null; lines: string[]; stderr: string }>((resolve) => {
    child.once('close', (code) => resolve({ code, lines, stderr }));
  });
  return {
    waitForLine(test) {
      const seen = lines.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return Promise.race([
        new Promise<string>((resolve) => waiters.add({ test, resolve })),
        exited.then(({ code }) => {
          throw new Error(`retrace run exited (${code}) before the line awaited\n${lines.join('\n')}\n${stderr}`);
        }),
      ]);
    },
    exited,
    kill: () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

const holdStarted = (line: string) => line.includes('"workflow.step.started"') && line.includes('"stepId":"hold"');

describe('retrace status and cancel across processes', { timeout: 120_000 }, () => {
  it('shows a run while another process runs it, cancels it from here (cleanup ran), and agrees with run --json', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'slow.yaml'), slow);
    const run = startRun(workspace, ['slow.yaml', '--run-id', 'slow-1', '--json', '-q']);
    try {
      await run.waitForLine(holdStarted);

      const table = await workspace.run(['status'], { timeoutMs: 60_000 });
      expect(table.code, table.stderr).toBe(0);
      expect(table.stdout).toMatch(/^RUN\s+WORKFLOW\s+STATUS\s+STARTED\s+DURATION\s+STEPS\s+WAITING \/ ERROR/);
      expect(table.stdout).toMatch(/slow-1\s+slow\s+running\s+\S+\s+\S+\s+2\s+hold/);

      const during = await workspace.run(['status', 'slow-1', '--json'], { timeoutMs: 60_000 });
      expect(during.code, during.stderr).toBe(0);
      expect(stdoutJson(during)).toMatchObject({
        runId: 'slow-1',
        status: 'running',
        state: { phase: 'waiting' },
        currentSteps: ['hold'],
        owner: { hostname: hostname() },
      });

      const cancel = await workspace.run(['cancel', 'slow-1', '--reason', 'stop please', '--json'], {
        timeoutMs: 60_000,
      });
      expect(cancel.code, cancel.stderr).toBe(130);
      const { code, lines } = await run.exited;
      expect(code).toBe(130);
      const runFinal = JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
      expect(runFinal).toMatchObject({
        status: 'cancelled',
        state: { phase: 'waiting', cleaned: true },
        error: { message: 'stop please', type: 'cancelled', step_id: 'hold' },
      });
      expect(JSON.parse(cancel.stdout)).toEqual(runFinal);
      expect(lines.some((line) => line.includes('"workflow.step.succeeded"') && line.includes('"stepId":"tidy"'))).toBe(
        true,
      );

      const after = await workspace.run(['status', 'slow-1', '--json'], { timeoutMs: 60_000 });
      expect(after.code, after.stderr).toBe(0);
      expect(JSON.parse(after.stdout)).toEqual(runFinal);
      expect(await readdir(join(workspace.dir, '.retrace', 'runs'))).toEqual([]);
      expect(await readdir(join(workspace.dir, '.retrace', 'control'))).toEqual([]);
    } finally {
      run.kill();
    }
  });

  it('says an ended run cannot be cancelled (exit 1), and an unknown run is unknown (exit 66)', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'quick.yaml'), quick);
    const ran = await workspace.run(['run', 'quick.yaml', '--run-id', 'quick-1', '--json', '-q'], {
      timeoutMs: 60_000,
    });
    expect(ran.code, ran.stderr).toBe(0);
    const runFinal = JSON.parse(ran.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;

    const status = await workspace.run(['status', 'quick-1', '--json'], { timeoutMs: 60_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual(runFinal);

    const cancel = await workspace.run(['cancel', 'quick-1'], { timeoutMs: 60_000 });
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('run quick-1 already ended (succeeded): nothing to cancel');

    const unknown = await workspace.run(['status', 'nope'], { timeoutMs: 60_000 });
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).toContain('no run "nope" in the log');

    const listed = await workspace.run(['status'], { timeoutMs: 60_000 });
    expect(listed.stdout).not.toContain('quick-1');
    const all = await workspace.run(['status', '--all', '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(all.stdout)).toEqual([runFinal]);
  });

  it('calls a run whose owner died interrupted (a stale owner file is ignored); cancel resumes it here and cancels it (cleanup ran)', async ({
    workspace,
  }) => {
    await writeFile(join(workspace.dir, 'slow.yaml'), slow);
    const run = startRun(workspace, ['slow.yaml', '--run-id', 'slow-2', '--json', '-q']);
    try {
      await run.waitForLine(holdStarted);
      run.kill();
      await run.exited;
    } finally {
      run.kill();
    }
    // The owner file the dead process left, and one naming a process that never existed here.
    const owners = await readdir(join(workspace.dir, '.retrace', 'runs'));
    expect(owners).toEqual(['slow-2.owner']);
    const neverAPid = 2 ** 22 + 1; // above Linux's largest pid_max: no process has it
    await writeFile(
      join(workspace.dir, '.retrace', 'runs', 'slow-2.owner'),
      JSON.stringify({ pid: neverAPid, hostname: hostname(), started: 1 }),
    );

    const status = await workspace.run(['status', 'slow-2', '--json'], { timeoutMs: 60_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(stdoutJson(status)).toMatchObject({ status: 'interrupted', state: { phase: 'waiting' } });
    const table = await workspace.run(['status'], { timeoutMs: 60_000 });
    expect(table.stdout).toMatch(/slow-2\s+slow\s+interrupted/);

    // From another directory: the resume inside the cancel finds slow.yaml by the absolute path the run recorded.
    const elsewhere = join(workspace.dir, 'elsewhere');
    await mkdir(elsewhere);
    const cancel = await runCli(['cancel', 'slow-2', '--json', '--data-dir', join(workspace.dir, '.retrace')], {
      cwd: elsewhere,
      env: workspace.marker,
      timeoutMs: 60_000,
    });
    expect(cancel.code, cancel.stderr).toBe(130);
    expect(cancel.stderr).toContain('no live process owns it: resuming it here to cancel it');
    // The wait that was under way is cancelled in the resumed run, and its cleanup step runs there.
    expect(JSON.parse(cancel.stdout)).toMatchObject({
      status: 'cancelled',
      state: { phase: 'waiting', cleaned: true },
    });
    const after = await workspace.run(['status', 'slow-2', '--json'], { timeoutMs: 60_000 });
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(cancel.stdout));
  });
});
