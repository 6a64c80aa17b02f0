// shell_command steps as real child processes (no shell), and seed 004's example with its flaky script.
import { chmod, copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/servers.js';
import { createHarness, stepTrail, unavailable } from './executorHarness.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retrace-shell-'));
});
afterEach(async () => {
  delete process.env['FLAKY_COUNTER_FILE'];
  await rm(dir, { recursive: true, force: true });
});

const node = JSON.stringify(process.execPath);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('shell_command steps', () => {
  it('runs argv without a shell, with env and cwd, capturing stdout, stderr and the exit code', async () => {
    const harness = createHarness();
    const { final } = await harness.run(
      `
name: shell
inputs: { word: string }
steps:
  - id: echo
    type: shell_command
    command: [${node}, -e, 'console.log(process.argv[1], process.env.GREETING, process.cwd()); console.error("note")', '{{ inputs.word }}; rm -rf /']
    env: { GREETING: 'hi {{ inputs.word }}' }
  - { id: done, type: return, value: '{{ steps.echo.result }}' }
`,
      { word: 'x' },
      { baseDir: dir, realWaitMs: 20 },
    );
    expect(final.status).toBe('succeeded');
    expect(final.result).toEqual({ exit_code: 0, stdout: `x; rm -rf / hi x ${dir}\n`, stderr: 'note\n' });
    await harness.runtime.close();
  });

  it('fails a non-zero exit as exit_code with the end of stderr, and a missing program as not_found', async () => {
    const harness = createHarness();
    const { final, events } = await harness.run(
      `
name: failing
steps:
  - { id: bad, type: shell_command, command: [${node}, -e, 'console.error("went wrong"); process.exit(3)'], on_error: continue }
  - { id: missing, type: shell_command, command: no-such-program-here, on_error: continue }
`,
      {},
      { baseDir: dir, realWaitMs: 20 },
    );
    expect(final.status).toBe('succeeded');
    const errors = events
      .filter((event) => event.type === 'workflow.step.fallback')
      .map((event) => event.data['error']);
    expect(errors[0]).toMatchObject({ type: 'exit_code', exit_code: 3, stderr: 'went wrong\n' });
    expect(String((errors[0] as { message: string }).message)).toMatch(/exited with code 3: went wrong$/);
    expect(errors[1]).toMatchObject({ type: 'not_found', message: 'no-such-program-here: command not found' });
    await harness.runtime.close();
  });

  it('kills the child when the step times out on the clock', async () => {
    const harness = createHarness();
    const pidFile = join(dir, 'pid');
    const workflow = await harness.compile(
      `
name: timing-out
steps:
  - id: sleepy
    type: shell_command
    command: [${node}, -e, 'require("fs").writeFileSync(process.argv[1], String(process.pid)); setTimeout(() => {}, 60000)', ${JSON.stringify(pidFile)}]
    timeout: 5s
`,
      dir,
    );
    const handle = harness.runtime.spawn(workflow);
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      pid = await readFile(pidFile, 'utf8').then(Number, () => undefined);
    }
    expect(pid).toBeGreaterThan(0);
    harness.clock.advance(5000);
    const final = await handle.done;
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ type: 'timeout', step_id: 'sleepy' });
    for (let i = 0; i < 100 && alive(pid!); i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(alive(pid!)).toBe(false);
    await harness.runtime.close();
  });

  it("runs seed 004's example as written: retries the flaky command, falls back past the API, fails in the else branch after its cleanup", async () => {
    await copyFile(join(repoRoot, 'examples/error-handling/workflow.yaml'), join(dir, 'workflow.yaml'));
    await copyFile(join(repoRoot, 'examples/error-handling/flaky-command.sh'), join(dir, 'flaky-command.sh'));
    await chmod(join(dir, 'flaky-command.sh'), 0o755);
    // The script counts its runs in this file; the step's process inherits the runtime's environment.
    process.env['FLAKY_COUNTER_FILE'] = join(dir, '.flaky-count');
    const harness = createHarness((request) => (request.tool === 'external_api' ? unavailable : { text: 'cleaned' }));
    const text = await readFile(join(dir, 'workflow.yaml'), 'utf8');
    const { final, events } = await harness.run(text, {}, { baseDir: dir, realWaitMs: 20 });
    const retries = events.filter((event) => event.type === 'workflow.step.retrying').map((event) => event.data);
    expect(retries.map((data) => data['delayMs'])).toEqual([2000, 4000]);
    expect(await readFile(join(dir, '.flaky-count'), 'utf8')).toBe('3\n');
    expect(final.state).toEqual({
      raw: {
        last_error:
          'flaky-command.sh exited with code 1: flaky-command: attempt 2 failed: connection refused by the scheduler backend (will succeed after 2)',
      },
    });
    const fallback = events.find((event) => event.type === 'workflow.step.fallback');
    expect(fallback?.data).toMatchObject({
      stepId: 'step2',
      strategy: 'continue',
      value: { status: 'unavailable', data: [] },
    });
    // `max_attempts` is declared nowhere, so `attempts < max_attempts` is false: the else branch's error ends the run.
    expect(harness.calls.map((call) => call.tool)).toEqual(['external_api', 'cleanup_resources']);
    expect(final.status).toBe('failed');
    expect(final.error).toMatchObject({ message: 'Max attempts exceeded', type: 'error', step_id: 'step3_else1' });
    expect(stepTrail(events).slice(-4)).toEqual([
      'started step3_else1_cleanup1',
      'succeeded step3_else1_cleanup1',
      'failed step3_else1',
      'failed step3',
    ]);
    await harness.runtime.close();
  });
});
