// `retrace explain FILE [--input k=v]...`: the execution plan — steps, tools and policies, fallbacks, computed graph, worst-case times.
import { formatDurationMs } from '../../common/duration.js';
import { loadConfig } from '../../config/loadConfig.js';
import { explainWorkflow } from '../../workflow/explainPlan.js';
import type { ExecutionPlan, PlanStep, PlanTool } from '../../workflow/explainPlan.js';
import { parseInputPairs, resolveInputs } from '../../workflow/inputs.js';
import { loadWorkflow } from '../../workflow/loadWorkflow.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';

export async function runExplain(
  file: string,
  options: { input: string[]; json?: boolean },
  globals: GlobalOptions,
): Promise<number> {
  const config = await loadConfig(globals.config === undefined ? {} : { file: globals.config });
  const { workflow } = await loadWorkflow(file, { config });
  const inputs = resolveInputs(workflow, parseInputPairs(options.input), { fromText: true, allowMissing: true });
  const plan = await explainWorkflow(workflow, { config, inputs });
  process.stdout.write(options.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
  return ExitCode.ok;
}

export function formatPlan(plan: ExecutionPlan): string {
  const lines: string[] = [`workflow ${plan.name} (${plan.file})`];
  if (plan.description) lines.push(`  ${plan.description}`);
  lines.push('', 'inputs:');
  if (plan.inputs.length === 0) lines.push('  (none)');
  for (const input of plan.inputs) {
    const value =
      input.value !== undefined
        ? ` = ${JSON.stringify(input.value)}`
        : input.default !== undefined
          ? ` (default ${JSON.stringify(input.default)})`
          : '';
    lines.push(`  ${input.name}: ${input.type}${input.required ? ', required' : ''}${value}`);
  }
  lines.push('', 'servers:');
  if (plan.servers.length === 0) lines.push('  (none: the run needs a runtime config with exactly one)');
  for (const server of plan.servers) lines.push(`  ${server.name}  (${server.declaredBy})  ${server.target}`);
  lines.push('', 'steps:');
  const stepLines = (steps: PlanStep[], indent: string) => {
    for (const step of steps) {
      lines.push(
        `${indent}${step.id}  ${step.type}  ${step.summary}${step.line === undefined ? '' : `  (line ${step.line})`}`,
      );
      const details = [
        ...(step.when ? [`when ${step.when}`] : []),
        `on_error ${step.onError}`,
        `${step.attempts} attempt${step.attempts === 1 ? '' : 's'}`,
        ...(step.timeoutMs === undefined ? [] : [`timeout ${formatDurationMs(step.timeoutMs)}`]),
        `worst ${step.worstCaseText}`,
      ];
      lines.push(`${indent}    ${details.join(' · ')}`);
      if (step.fallbackChain && step.fallbackChain.length > 1)
        lines.push(`${indent}    chain: ${step.fallbackChain.join(' → ')}`);
      for (const child of step.children) {
        lines.push(`${indent}    ${child.label}:`);
        stepLines(child.steps, `${indent}      `);
      }
    }
  };
  stepLines(plan.steps, '  ');
  lines.push('', 'tools:');
  if (plan.tools.length === 0) lines.push('  (none)');
  for (const tool of plan.tools) lines.push(...toolLines(tool));
  lines.push('', 'computed:');
  if (plan.computed.length === 0) lines.push('  (none)');
  for (const name of plan.computedOrder) {
    const field = plan.computed.find((item) => item.name === name);
    if (!field) continue;
    const dependents = field.dependents.length > 0 ? `; feeds ${field.dependents.join(', ')}` : '';
    lines.push(`  ${name} ← ${field.dependencies.join(', ')}${dependents}`);
  }
  lines.push(
    '',
    `worst case: ${plan.worstCaseText}${plan.timeoutMs === undefined ? '' : ` (workflow timeout ${formatDurationMs(plan.timeoutMs)})`}`,
  );
  return `${lines.join('\n')}\n`;
}

function toolLines(tool: PlanTool): string[] {
  const policy = tool.policy;
  const name = `${tool.server ?? '(default server)'}/${tool.tool}`;
  const retries = `${policy.maxRetries} retries from ${formatDurationMs(policy.baseDelayMs)} ×${policy.exponentialBase} up to ${formatDurationMs(policy.maxDelayMs)} (${policy.jitter} jitter) on ${policy.retryable.join(', ')}`;
  const limits = `timeout ${formatDurationMs(policy.timeoutMs)}, deadline ${formatDurationMs(policy.deadlineMs)}`;
  const flags = [
    policy.idempotent ? 'idempotent' : 'not idempotent',
    ...(policy.critical ? ['critical'] : []),
    ...(policy.cache.enabled ? [`cached ${formatDurationMs(policy.cache.ttlMs)}`] : []),
    ...(policy.escalationLevel ? [`escalates ${policy.escalationLevel}`] : []),
  ];
  const fallbacks =
    policy.fallbacks.length > 0 ? policy.fallbacks.map((item) => item ?? '(empty result)').join(' → ') : 'none';
  return [
    `  ${name}  used by ${tool.usedBy.join(', ')}`,
    `    ${retries}`,
    `    ${limits}; ${flags.join(', ')}; fallbacks: ${fallbacks}; worst ${formatDurationMs(policy.worstCaseMs)}`,
  ];
}
