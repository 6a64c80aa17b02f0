// A workflow's own `servers:`: connected by the runtime for its runs, paths against the file, clashes refused.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/actors/runtime.js';
import type { RuntimeConfigInput } from '../../src/config/runtimeConfig.js';
import { createTestClock } from '../../src/testing/testClock.js';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { repoRoot } from '../support/servers.js';

const open: Runtime[] = [];
afterEach(async () => {
  while (open.length) await open.pop()?.close();
});

const seedDir = join(repoRoot, 'examples', 'seed-000');

/** A workflow beside the seed-000 examples declaring the example server with `cwd: ../..` and `args`. */
function text(name: string, args: string, steps = '[{ id: stats, type: mcp_call, tool: example_stats }]'): string {
  return `name: ${name}
servers:
  scheduler: { command: node, args: [--import, tsx, src/examples/exampleServerMain.ts${args}], cwd: ../.. }
steps: ${steps}
`;
}

async function compile(source: string, config?: Runtime['config'], env: Record<string, string> = {}) {
  return parseWorkflowText(source, {
    file: 'flow.yaml',
    baseDir: seedDir,
    env,
    ...(config ? { config } : {}),
  });
}

async function compiled(source: string): Promise<CompiledWorkflow> {
  const { workflow, problems } = await compile(source);
  if (!workflow) throw new Error(problems.map((problem) => problem.message).join('\n'));
  return workflow;
}

function runtimeWith(config: RuntimeConfigInput = {}): Runtime {
  const runtime = createRuntime({ config, clock: createTestClock(1_700_000_000_000) });
  open.push(runtime);
  return runtime;
}

async function exited(pid: number): Promise<boolean> {
  for (let i = 0; i < 200; i += 1) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await sleep(25);
  }
  return false;
}

describe("a workflow's own servers", () => {
  it('are connected for the run, with a relative cwd against the file, and closed when the run ends', async () => {
    const steps = '[{ id: s, type: mcp_call, tool: example_stats }, { type: return, value: "{{ steps.s.result }}" }]';
    const workflow = await compiled(text('own', '', steps));
    expect(workflow.declaredServers['scheduler']).toMatchObject({ cwd: join(seedDir, '..', '..') });
    const runtime = runtimeWith();
    const final = await runtime.spawn(workflow).done;
    expect(final.status).toBe('succeeded');
    expect(await exited((final.result as { pid: number }).pid)).toBe(true);
    await expect(runtime.callTool('scheduler', 'example_stats')).rejects.toMatchObject({ code: 'E_UNKNOWN_SERVER' });
  });

  it('refuse a server the runtime config defines differently, naming both places', async () => {
    const runtime = runtimeWith({ servers: { scheduler: { command: 'other-server' } } });
    await expect(runtime.spawn(await compiled(text('clash', ''))).done).rejects.toMatchObject({
      code: 'E_WORKFLOW',
      message:
        'server "scheduler" is defined differently by the runtime config: rename one, or make the definitions equal',
      location: { file: 'flow.yaml', path: 'servers.scheduler' },
    });
    // Loaded with that config, the file itself is refused, at the server's line.
    const { problems } = await compile(text('clash', ''), runtime.config);
    expect(problems).toMatchObject([
      {
        severity: 'error',
        location: { file: 'flow.yaml', line: 3, column: 3 },
        message: expect.stringMatching(/runtime config/),
      },
    ]);
  });

  it('refuse a server a running workflow defines differently, and accept the same definition', async () => {
    const runtime = runtimeWith();
    const waiting = runtime.spawn(await compiled(text('first', '', '[{ type: wait, duration: 1h }]')));
    await Promise.resolve();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const other = await compiled(text('second', ', --plan-json, "{}"'));
    other.file = 'second.yaml';
    await expect(runtime.spawn(other).done).rejects.toMatchObject({
      message:
        'server "scheduler" is defined differently by workflow flow.yaml, which is running: rename one, or make the definitions equal',
      location: { file: 'second.yaml' },
    });
    const same = await runtime.spawn(await compiled(text('same', ''))).done;
    expect(same.status).toBe('succeeded');
    waiting.cancel();
    expect((await waiting.done).status).toBe('cancelled');
  });

  it('take ${VAR} from the environment, and report one that is not set', async () => {
    const source = text('env', ', --plan, "${PLAN}"');
    const { workflow } = await compile(source, undefined, { PLAN: 'examples/plans/validation-ok.yaml' });
    expect(workflow?.declaredServers['scheduler']).toMatchObject({
      args: expect.arrayContaining(['examples/plans/validation-ok.yaml']),
    });
    const { problems } = await compile(source);
    expect(problems).toMatchObject([{ severity: 'error', message: expect.stringMatching(/\$\{PLAN\} not set/) }]);
  });
});
