// The execution plan of a workflow before it runs: steps, tools and their resolved policies, fallbacks, computed graph, worst-case times.
import { describeServer, isStdioServer } from '../actors/serverConfig.js';
import { formatDurationMs } from '../common/duration.js';
import { policyFor } from '../config/policyFor.js';
import { parseRuntimeConfig } from '../config/runtimeConfig.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import { worstCaseBackoffMs } from '../policy/backoff.js';
import type { ToolPolicy } from '../policy/toolPolicy.js';
import type { CompiledStep, CompiledWorkflow, McpCallStep, ValueTemplate } from './compiledWorkflow.js';
import { renderValue } from './render.js';
import { add, capped, concurrent, fixed, formatWorstCase, longest, times, unbounded, ZERO } from './worstCase.js';
import type { WorstCase } from './worstCase.js';

export interface PlanStep {
  id: string;
  type: CompiledStep['type'];
  line?: number;
  /** What it does, in a few words: the tool, the command, the condition. */
  summary: string;
  when?: string;
  onError: string;
  /** Attempts of the step itself (for mcp_call: of its tool, under the call's policy). */
  attempts: number;
  timeoutMs?: number;
  /** For mcp_call: the tools tried in order, then the step's fallback_value. */
  fallbackChain?: string[];
  worstCase: WorstCase;
  worstCaseText: string;
  children: Array<{ label: string; steps: PlanStep[] }>;
}

export interface PlanTool {
  server: string | null;
  tool: string;
  usedBy: string[];
  policy: ToolPolicySummary;
}

export interface ToolPolicySummary {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  exponentialBase: number;
  jitter: string;
  retryable: string[];
  timeoutMs: number;
  deadlineMs: number;
  idempotent: boolean;
  critical: boolean;
  fallbacks: Array<string | null>;
  cache: { enabled: boolean; ttlMs: number };
  escalationLevel?: string;
  /** One target of the call (this tool alone, without fallbacks) at worst. */
  worstCaseMs: number;
}

export interface PlanServer {
  name: string;
  /** `workflow`: the file's own `servers:`, connected while it runs; `config`: the runtime config's. */
  declaredBy: 'workflow' | 'config';
  /** Its command line (and working directory) or URL. */
  target: string;
}

export interface ExecutionPlan {
  name: string;
  file: string;
  description?: string;
  servers: PlanServer[];
  inputs: Array<{ name: string; type: string; required: boolean; value?: unknown; default?: unknown }>;
  steps: PlanStep[];
  tools: PlanTool[];
  computed: Array<{ name: string; dependencies: string[]; dependents: string[] }>;
  /** Computed fields in evaluation order. */
  computedOrder: string[];
  timeoutMs?: number;
  worstCase: WorstCase;
  worstCaseText: string;
}

export interface ExplainOptions {
  config?: RuntimeConfig | undefined;
  /** Resolved inputs: loops over them get a known length. */
  inputs?: Record<string, unknown> | undefined;
}

export async function explainWorkflow(
  workflow: CompiledWorkflow,
  options: ExplainOptions = {},
): Promise<ExecutionPlan> {
  const base = options.config ?? parseRuntimeConfig({});
  const config: RuntimeConfig = { ...base, servers: workflow.servers, tools: workflow.tools };
  const explainer = new Explainer(workflow, config, options.inputs);
  const steps = await explainer.steps(workflow.steps);
  const total = capped(add(...steps.map((step) => step.worstCase)), workflow.timeoutMs);
  const computed = [...workflow.computed.fields.values()].map((field) => ({
    name: field.name,
    dependencies: field.dependencies,
    dependents: [...workflow.computed.fields.values()]
      .filter((other) => other.dependencies.includes(`computed.${field.name}`))
      .map((other) => other.name),
  }));
  const plan: ExecutionPlan = {
    name: workflow.name,
    file: workflow.file,
    inputs: Object.entries(workflow.inputs).map(([name, input]) => ({
      name,
      type: input.type,
      required: input.required,
      ...(input.default === undefined ? {} : { default: input.default }),
      ...(options.inputs && Object.hasOwn(options.inputs, name) ? { value: options.inputs[name] } : {}),
    })),
    servers: Object.entries(workflow.servers).map(([name, server]) => ({
      name,
      declaredBy: Object.hasOwn(workflow.declaredServers, name) ? 'workflow' : 'config',
      target: `${describeServer(server)}${isStdioServer(server) && server.cwd !== undefined ? ` (in ${server.cwd})` : ''}`,
    })),
    steps,
    tools: [...explainer.tools.values()],
    computed,
    computedOrder: [...workflow.computed.order],
    worstCase: total,
    worstCaseText: formatWorstCase(total),
  };
  if (workflow.description !== undefined) plan.description = workflow.description;
  if (workflow.timeoutMs !== undefined) plan.timeoutMs = workflow.timeoutMs;
  return plan;
}

class Explainer {
  readonly tools = new Map<string, PlanTool>();

  constructor(
    private readonly workflow: CompiledWorkflow,
    private readonly config: RuntimeConfig,
    private readonly inputs: Record<string, unknown> | undefined,
  ) {}

  async steps(steps: readonly CompiledStep[]): Promise<PlanStep[]> {
    const planned: PlanStep[] = [];
    for (const step of steps) planned.push(await this.step(step));
    return planned;
  }

  private async step(step: CompiledStep): Promise<PlanStep> {
    const children: PlanStep['children'] = [];
    const group = async (label: string, steps: readonly CompiledStep[]) => {
      const planned = await this.steps(steps);
      if (planned.length > 0) children.push({ label, steps: planned });
      return planned;
    };
    const sum = (planned: PlanStep[]) => add(...planned.map((item) => item.worstCase));
    let attempt: WorstCase = ZERO;
    let summary: string = step.type;
    let fallbackChain: string[] | undefined;
    let attempts = step.onError.retry.maxRetries + 1;
    switch (step.type) {
      case 'mcp_call': {
        const call = this.mcpCall(step);
        attempt = call.worstCase;
        attempts = call.attempts;
        fallbackChain = call.chain;
        summary = `${step.server ?? '(default server)'}/${step.tool}`;
        break;
      }
      case 'shell_command':
        summary = step.argv.map(describeTemplate).join(' ');
        attempt =
          step.timeoutMs === undefined ? unbounded(`${step.id}: shell_command without timeout`) : fixed(step.timeoutMs);
        break;
      case 'conditional': {
        summary = `if ${describeCondition(step.condition)}`;
        const then = await group('then', step.then);
        const otherwise = await group('else', step.else);
        attempt = longest([sum(then), sum(otherwise)]);
        break;
      }
      case 'state_update':
        summary = `${step.operation} state.${step.path.join('.')}`;
        break;
      case 'error':
        summary = `fail: ${describeTemplate(step.message)}`;
        break;
      case 'return':
        summary = `return ${describeTemplate(step.value)}`;
        break;
      case 'wait':
        if (step.durationMs !== undefined) {
          summary = `wait ${formatDurationMs(step.durationMs)}`;
          attempt = fixed(step.durationMs);
        } else {
          summary = `wait until ${step.until ? describeCondition(step.until) : '?'} (every ${formatDurationMs(step.intervalMs)})`;
          attempt =
            step.timeoutMs === undefined ? unbounded(`${step.id}: wait until without timeout`) : fixed(step.timeoutMs);
        }
        break;
      case 'poll': {
        const [polled] = await group('poll', [step.step]);
        const round = add(polled?.worstCase ?? ZERO, fixed(step.intervalMs));
        summary = `poll ${polled?.summary ?? ''} until ${describeCondition(step.until)} every ${formatDurationMs(step.intervalMs)}`;
        attempt =
          step.maxPolls !== undefined
            ? times(round, step.maxPolls)
            : step.timeoutMs === undefined
              ? unbounded(`${step.id}: poll without timeout or max_polls`)
              : fixed(step.timeoutMs);
        attempt = capped(attempt, step.timeoutMs);
        const onTimeout = Array.isArray(step.onTimeout) ? await group('on_timeout', step.onTimeout) : [];
        const cancel = await group('cancel', step.cancel);
        attempt = add(attempt, sum(onTimeout), sum(cancel));
        break;
      }
      case 'parallel': {
        const branches: WorstCase[] = [];
        for (const [index, branch] of step.branches.entries())
          branches.push(sum(await group(`branch ${index + 1}`, branch)));
        summary = `${step.branches.length} branches, ${step.concurrency ?? 'all'} at a time, ${step.strategy}`;
        attempt = concurrent(branches, step.concurrency);
        break;
      }
      case 'foreach': {
        const body = sum(await group(`each ${step.as}`, step.steps));
        const count = await this.staticCount(step.items);
        summary = `for each ${step.as} in ${describeTemplate(step.items)}${count === undefined ? '' : ` (${count} items)`}, ${step.concurrency} at a time`;
        attempt =
          count !== undefined
            ? times(body, Math.ceil(count / step.concurrency))
            : {
                fixedMs: 0,
                perItem: [
                  { items: describeTemplate(step.items), concurrency: step.concurrency, perRoundMs: body.fixedMs },
                  ...body.perItem,
                ],
                unbounded: body.unbounded,
              };
        break;
      }
      case 'workflow': {
        const sub = await new Explainer(
          step.workflow,
          { ...this.config, servers: step.workflow.servers, tools: step.workflow.tools },
          undefined,
        ).steps(step.workflow.steps);
        children.push({ label: `workflow ${step.workflow.name}`, steps: sub });
        summary = `workflow ${step.workflow.name}${step.file ? ` (${step.workflow.file})` : ' (inline)'}`;
        attempt = capped(sum(sub), step.workflow.timeoutMs);
        break;
      }
    }
    const cleanup = await group('cleanup', step.cleanup);
    // mcp_call's retries are its tool's (the step's retry fields became the call's policy); others retry the step.
    const retries = step.type === 'mcp_call' ? ZERO : fixed(worstCaseBackoffMs(step.onError.retry));
    // A poll's timeout bounds its polling (already applied), not the on_timeout and cancel steps after it.
    const perAttempt = step.type === 'mcp_call' || step.type === 'poll' ? attempt : capped(attempt, step.timeoutMs);
    const worst = add(step.type === 'mcp_call' ? perAttempt : times(perAttempt, attempts), retries, sum(cleanup));
    const planned: PlanStep = {
      id: step.id,
      type: step.type,
      summary,
      onError: describeOnError(step),
      attempts,
      worstCase: worst,
      worstCaseText: formatWorstCase(worst),
      children,
    };
    if (step.location.line !== undefined) planned.line = step.location.line;
    if (step.when) planned.when = describeCondition(step.when);
    if (step.timeoutMs !== undefined) planned.timeoutMs = step.timeoutMs;
    if (fallbackChain) planned.fallbackChain = fallbackChain;
    return planned;
  }

  /** The call's chain: the tool, then its policy's fallbacks, each with its own retries and deadline. */
  private mcpCall(step: McpCallStep): { worstCase: WorstCase; attempts: number; chain: string[] } {
    const server = step.server ?? '';
    const primary = this.policy(step.server, step.tool, step);
    const chain: string[] = [`${step.server ? `${step.server}/` : ''}${step.tool}`];
    let total = targetWorstMs(primary);
    for (const fallback of primary.fallbacks) {
      if (fallback === null) {
        chain.push('(empty result)');
        continue;
      }
      const [fallbackServer, fallbackTool] = fallback.includes('/') ? fallback.split('/') : [server, fallback];
      const policy = this.policy(fallbackServer || undefined, fallbackTool ?? fallback, step, false);
      chain.push(fallback);
      total += targetWorstMs(policy);
    }
    if (step.onError.fallbackValue !== undefined)
      chain.push(`fallback_value ${describeTemplate(step.onError.fallbackValue)}`);
    return { worstCase: fixed(total), attempts: primary.maxRetries + 1, chain };
  }

  private policy(server: string | undefined, tool: string, step: McpCallStep, own = true): ToolPolicy {
    const policy = policyFor(this.config, server ?? '', tool, undefined, own ? step.policy : undefined);
    const key = `${server ?? ''}/${tool}`;
    const entry = this.tools.get(key);
    if (entry) {
      if (!entry.usedBy.includes(step.id)) entry.usedBy.push(step.id);
    } else {
      this.tools.set(key, { server: server ?? null, tool, usedBy: [step.id], policy: summarise(policy) });
    }
    return policy;
  }

  /** A loop's length when its items are a literal list or depend on inputs alone. */
  private async staticCount(items: ValueTemplate): Promise<number | undefined> {
    if (items.kind === 'literal') return Array.isArray(items.value) ? items.value.length : undefined;
    if (items.kind !== 'expression' || this.inputs === undefined) return undefined;
    const inputNames = new Set(Object.keys(this.workflow.inputs));
    const onlyInputs = items.expression.references.every(
      ({ names: [root] }) => root === 'inputs' || (root !== undefined && inputNames.has(root)),
    );
    if (!onlyInputs) return undefined;
    try {
      const value = await renderValue(items, { inputs: this.inputs, state: {}, computed: {}, steps: {}, env: {} });
      return Array.isArray(value) ? value.length : undefined;
    } catch {
      return undefined;
    }
  }
}

/** One target at worst: every attempt timing out, every backoff at its longest, cut by the deadline. */
function targetWorstMs(policy: ToolPolicy): number {
  return Math.min(policy.deadlineMs, (policy.maxRetries + 1) * policy.timeoutMs + worstCaseBackoffMs(policy));
}

function summarise(policy: ToolPolicy): ToolPolicySummary {
  const summary: ToolPolicySummary = {
    maxRetries: policy.maxRetries,
    baseDelayMs: policy.baseDelayMs,
    maxDelayMs: policy.maxDelayMs,
    exponentialBase: policy.exponentialBase,
    jitter: policy.jitter,
    retryable: [...policy.retryable],
    timeoutMs: policy.timeoutMs,
    deadlineMs: policy.deadlineMs,
    idempotent: policy.idempotent,
    critical: policy.critical,
    fallbacks: [...policy.fallbacks],
    cache: { ...policy.cache },
    worstCaseMs: targetWorstMs(policy),
  };
  if (policy.escalation.level !== undefined) summary.escalationLevel = policy.escalation.level;
  return summary;
}

function describeOnError(step: CompiledStep): string {
  const { strategy, retry } = step.onError;
  if (strategy !== 'retry') return strategy;
  return `retry ${retry.maxRetries}× from ${formatDurationMs(retry.baseDelayMs)}, doubling`;
}

function describeCondition(condition: CompiledStep['when'] & object): string {
  return condition.kind === 'literal' ? String(condition.value) : condition.expression.source;
}

function describeTemplate(template: ValueTemplate): string {
  switch (template.kind) {
    case 'literal':
      return typeof template.value === 'string' ? template.value : JSON.stringify(template.value);
    case 'expression':
      return `{{ ${template.expression.source} }}`;
    case 'text':
      return template.parts.map((part) => (typeof part === 'string' ? part : `{{ ${part.source} }}`)).join('');
    case 'list':
      return `[${template.items.map(describeTemplate).join(', ')}]`;
    case 'mapping':
      return `{${template.entries.map(([key, item]) => `${key}: ${describeTemplate(item)}`).join(', ')}}`;
  }
}
