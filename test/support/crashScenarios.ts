// The workflows the crash campaign kills: seed 000's examples under each of their plans, and the crash-resume workflow
// (shell steps, a foreach, a non-idempotent task start). Each is written into its run's directory as it runs there:
// the example server built (dist) on a state file in that directory, so a restarted server goes on where the killed
// one was, and every wait (backoff, poll interval, poll timeout) scaled down so hundreds of runs fit in minutes.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type Document, type YAMLMap } from 'yaml';
import { parseDurationMs } from '../../src/common/duration.js';
import { distExampleServer } from './crashChild.js';
import { repoRoot } from './servers.js';

export type ExpectedEnd = 'succeeded' | 'failed' | 'escalated';

export interface CrashScenario {
  /** Unique, used in directory names: `deployment-emergency`. */
  name: string;
  /** The workflow text as the campaign runs it (`flow.yaml` in the run's directory, cwd of the server). */
  workflowText(timeScale: number): Promise<string>;
  inputs: Record<string, string>;
  /** Inputs the log redacts (secrets), given again to `retrace resume` as an operator would. */
  secretInputs?: Record<string, string>;
  /** How the uninterrupted run ends (checked on the baseline: the rewritten example still behaves as documented). */
  expected: ExpectedEnd;
  /** Shell steps that append a line per execution to `effects.log`: the step actor each line is an execution of. */
  effectsLog?: { stepOf(line: string): string; nonIdempotentSteps: readonly string[] };
}

/** The server's state file, relative to the run's directory. */
export const serverStateFile = 'server-state.json';

/** The example server as a workflow declares it for the campaign: built, with this plan, on the run's state file. */
function exampleServer(plan?: string): Record<string, unknown> {
  const planArgs = plan === undefined ? [] : ['--plan', join(repoRoot, 'examples', 'plans', plan)];
  return {
    command: process.execPath,
    args: [distExampleServer, ...planArgs, '--state-file', serverStateFile],
    cwd: '.',
  };
}

function scaled(value: unknown, unit: 'seconds' | 'ms', timeScale: number): string | undefined {
  if (typeof value !== 'number' && typeof value !== 'string') return undefined;
  const ms = typeof value === 'number' && unit === 'ms' ? value : parseDurationMs(value);
  return ms === undefined ? undefined : `${Math.max(1, Math.round(ms * timeScale))}ms`;
}

/** Scales a duration field of a map in place: policies count numbers in seconds, steps in milliseconds. */
function scaleField(map: YAMLMap, key: string, unit: 'seconds' | 'ms', timeScale: number): void {
  const node = map.get(key, true);
  if (!isScalar(node)) return;
  const next = scaled(node.value, unit, timeScale);
  if (next !== undefined) map.set(key, next);
}

function scalePolicy(policy: unknown, timeScale: number): void {
  if (!isMap(policy)) return;
  for (const key of ['base_delay', 'max_delay']) scaleField(policy, key, 'seconds', timeScale);
  const byKind = policy.get('by_kind', true);
  if (isMap(byKind)) for (const pair of byKind.items) scalePolicy(pair.value, timeScale);
}

/**
 * Every step below `node`: its policy, retry delay, and a wait's or poll's interval and duration; its timeout only with
 * `timeouts` (a timeout counts the time the process was down too: scaled to seconds, a restart would reach it).
 */
function scaleSteps(node: unknown, timeScale: number, timeouts: boolean): void {
  if (isSeq(node)) {
    for (const item of node.items) scaleSteps(item, timeScale, timeouts);
    return;
  }
  if (!isMap(node)) return;
  const type = node.get('type');
  if (typeof type === 'string') {
    scalePolicy(node.get('policy', true), timeScale);
    scaleField(node, 'retry_delay', 'ms', timeScale);
    if (type === 'wait' || type === 'poll') {
      for (const key of ['interval', 'duration']) scaleField(node, key, 'ms', timeScale);
      if (timeouts) scaleField(node, 'timeout', 'ms', timeScale);
    }
  }
  for (const pair of node.items) {
    if (isScalar(pair.key) && pair.key.value === 'policy') continue;
    scaleSteps(pair.value, timeScale, timeouts);
  }
}

/** The workflow's waits scaled by `timeScale` (0.01: a 30 s poll interval becomes 300 ms). */
export function scaleWaits(document: Document, timeScale: number, options: { timeouts?: boolean } = {}): void {
  const tools = document.get('tools', true);
  if (isMap(tools)) for (const pair of tools.items) scalePolicy(pair.value, timeScale);
  scaleSteps(document.get('steps', true), timeScale, options.timeouts ?? false);
}

interface ExampleOptions {
  inputs?: Record<string, string>;
  /** Scale the poll's timeout too: the scenario where it runs out (a task that never finishes). */
  timeouts?: boolean;
}

/** The deployment's approval token, redacted in the log: an operator gives it again to resume. */
const deploymentSecrets = { approval_token: 'approve-7' };

function seedExample(
  name: string,
  file: string,
  plan: string,
  expected: ExpectedEnd,
  options: ExampleOptions = {},
): CrashScenario {
  return {
    name,
    inputs: options.inputs ?? {},
    ...(file === 'deployment.yaml' ? { secretInputs: deploymentSecrets } : {}),
    expected,
    async workflowText(timeScale) {
      const document = parseDocument(await readFile(join(repoRoot, 'examples', 'seed-000', file), 'utf8'));
      document.setIn(['servers', 'scheduler'], document.createNode(exampleServer(plan)));
      scaleWaits(document, timeScale, { timeouts: options.timeouts ?? false });
      return document.toString();
    },
  };
}

/** Seed 000's examples, one per row of examples/README.md. */
export const seedExampleScenarios: readonly CrashScenario[] = [
  seedExample('validation-ok', 'validation.yaml', 'validation-ok.yaml', 'succeeded'),
  seedExample('validation-not-found', 'validation.yaml', 'validation-ok.yaml', 'succeeded', {
    inputs: { schedule_id: 'sched-1999' },
  }),
  seedExample('validation-fallback', 'validation.yaml', 'validation-fallback.yaml', 'succeeded', {
    inputs: { schedule_id: 'sched-2025-02' },
  }),
  seedExample('validation-backend-down', 'validation.yaml', 'validation-backend-down.yaml', 'escalated'),
  seedExample('background-ok', 'background-task.yaml', 'background-ok.yaml', 'succeeded'),
  seedExample('background-failure', 'background-task.yaml', 'background-task.yaml', 'failed', {
    inputs: { task_type: 'resilience_contingency' },
  }),
  seedExample('background-timeout', 'background-task.yaml', 'background-task.yaml', 'succeeded', {
    inputs: { task_type: 'swap_analysis' },
    timeouts: true,
  }),
  seedExample('deployment-ok', 'deployment.yaml', 'deployment-ok.yaml', 'succeeded'),
  seedExample('deployment-rollback', 'deployment.yaml', 'deployment-rollback.yaml', 'succeeded'),
  seedExample('deployment-emergency', 'deployment.yaml', 'deployment-emergency.yaml', 'escalated'),
];

export const crashResumeItems = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/** Every execution of a command step appends a line to effects.log; the example server keeps its own in its state file. */
export function crashResumeWorkflow(): string {
  return `name: crash-resume
servers:
  scheduler: ${JSON.stringify(exampleServer())}
tools:
  start_background_task_tool: { max_retries: 0, idempotent: false }
state: { raw: { count: 0 } }
steps:
  - id: before
    type: shell_command
    command: [sh, -c, 'echo before >> effects.log']
    idempotent: true
  - id: per_item
    type: foreach
    items: ${JSON.stringify(crashResumeItems)}
    concurrency: 2
    steps:
      - id: touch
        type: shell_command
        command: [sh, -c, 'echo "touch $0" >> effects.log', '{{ item }}']
        idempotent: true
      - { id: tally, type: state_update, path: raw.count, operation: increment }
  - id: check
    type: mcp_call
    server: scheduler
    tool: validate_schedule_tool
    arguments: { schedule_id: sched-2025-02 }
  - id: start
    type: mcp_call
    server: scheduler
    tool: start_background_task_tool
    arguments: { task_type: compliance_report }
  - id: record
    type: shell_command
    command: [sh, -c, 'echo record >> effects.log']
  - id: ext
    type: mcp_call
    server: scheduler
    tool: external_api
  - { id: keep, type: state_update, path: raw.task, value: '{{ steps.start.result.task_id }}' }
  - id: out
    type: return
    value: { count: '{{ state.raw.count }}', task: '{{ state.raw.task }}', rotations: '{{ $count(steps.ext.result.data) }}' }
`;
}

/** The step actor an effects.log line of the crash-resume workflow is an execution of. */
export function crashResumeStepOf(line: string): string {
  if (line.startsWith('touch ')) return `per_item[${crashResumeItems.indexOf(line.slice('touch '.length))}].touch`;
  return line;
}

export const crashResumeScenario: CrashScenario = {
  name: 'crash-resume',
  inputs: {},
  expected: 'succeeded',
  workflowText: () => Promise.resolve(crashResumeWorkflow()),
  effectsLog: { stepOf: crashResumeStepOf, nonIdempotentSteps: ['record'] },
};

export const allCrashScenarios: readonly CrashScenario[] = [...seedExampleScenarios, crashResumeScenario];
