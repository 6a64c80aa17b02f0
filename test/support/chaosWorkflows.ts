// The workflows the chaos campaign runs: seed 000's three examples, their `scheduler` server replaced by the chaos
// proxy's URL (a workflow's own `servers:` entry cannot be overridden by the runtime config: it would clash), and,
// under the `chaos` budget, every tool policy of the file given enough retries to outlast a 30% fault rate.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMap, parseDocument, type Document } from 'yaml';
import type { CompiledWorkflow } from '../../src/workflow/compiledWorkflow.js';
import { parseWorkflowText } from '../../src/workflow/loadWorkflow.js';
import { repoRoot } from './servers.js';

/**
 * `examples`: the files' own policies (validation: 3 retries of unavailable/timeout then the fallback; the
 * deployment's promote: one retry of unavailable, then an emergency). `chaos`: every tool the file names retries any
 * transient failure at least {@link chaosRetries} times — at 30% a call then fails for good with 0.3^9 ≈ 2·10⁻⁵.
 */
export type ChaosBudget = 'examples' | 'chaos';

export const chaosRetries = 8;

export interface ChaosWorkflow {
  /** The example's name: `validation`, `background-task`, `deployment`. */
  name: string;
  workflow: CompiledWorkflow;
  inputs: Record<string, unknown>;
  /** Runs of this workflow one at a time: the example server refuses a promotion while another still rolls out. */
  serial: boolean;
}

function raiseBudgets(document: Document): void {
  const tools = document.get('tools', true);
  if (!isMap(tools)) return;
  for (const pair of tools.items) {
    const policy = pair.value;
    if (!isMap(policy)) continue;
    const retries = policy.get('max_retries');
    if (typeof retries !== 'number' || retries < chaosRetries) policy.set('max_retries', chaosRetries);
    policy.set('retryable', document.createNode(['transient']));
  }
}

async function adapted(name: string, proxyUrl: string, budget: ChaosBudget): Promise<CompiledWorkflow> {
  const file = join(repoRoot, 'examples', 'seed-000', `${name}.yaml`);
  const document = parseDocument(await readFile(file, 'utf8'));
  document.setIn(['servers', 'scheduler'], document.createNode({ url: proxyUrl }));
  if (budget === 'chaos') raiseBudgets(document);
  const checked = await parseWorkflowText(document.toString(), { file, baseDir: join(repoRoot, 'examples') });
  if (!checked.workflow) {
    throw new Error(`${name}.yaml adapted for chaos: ${checked.problems.map((problem) => problem.message).join('; ')}`);
  }
  return checked.workflow;
}

/** Seed 000's examples on their default inputs (the example server behind the proxy injects no faults of its own). */
export async function chaosWorkflows(proxyUrl: string, budget: ChaosBudget): Promise<ChaosWorkflow[]> {
  return [
    { name: 'validation', workflow: await adapted('validation', proxyUrl, budget), inputs: {}, serial: false },
    {
      name: 'background-task',
      workflow: await adapted('background-task', proxyUrl, budget),
      inputs: {},
      serial: false,
    },
    { name: 'deployment', workflow: await adapted('deployment', proxyUrl, budget), inputs: {}, serial: true },
  ];
}
