// What each step type does in one attempt: call a tool, run a command, branch, update state, wait, poll, fan out, loop, nest.
import { resolve } from 'node:path';
import type { Clock } from '../common/clock.js';
import type { Logger } from './logger.js';
import type { StepError, StepOutcome, WorkflowMachineInput, WorkflowOutcome } from '../machines/workflowTypes.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import type {
  CompiledStep,
  CompiledStepOf,
  ForeachStep,
  ParallelStep,
  PollStep,
} from '../workflow/compiledWorkflow.js';
import type { EvaluationContext } from '../workflow/expression.js';
import { resolveInputs } from '../workflow/inputs.js';
import { evaluateCondition, renderValue } from '../workflow/render.js';
import type { WorkflowScope } from '../workflow/scope.js';
import type { StateOperation } from '../workflow/workflowSchema.js';
import type { CallOptions, RecordedOutcome } from './runtime.js';
import { resolveProgram, runShellCommand, type ShellCommandFailure } from './shellCommand.js';
import type { Frame } from './workflowExecutor.js';
import {
  abortReason,
  createExecution,
  isStepFailure,
  stepFailure,
  workflowHash,
  type WorkflowExecution,
} from './workflowExecution.js';

export interface StepKindDeps {
  clock: Clock;
  logger: Logger;
  callTool(server: string, tool: string, args: Record<string, unknown>, options: CallOptions): Promise<RecordedOutcome>;
  /** Waits until what the run recorded so far is durable: a side effect that cannot be repeated waits for its start. */
  durable(runId: string): Promise<void>;
  /** The runtime config's server names: an mcp_call naming none takes the only one. */
  servers: readonly string[];
  expressionContext: EvaluationContext;
  scopeOf(execution: WorkflowExecution, frame: Frame): WorkflowScope;
  runStep(execution: WorkflowExecution, step: CompiledStep, frame: Frame): Promise<StepOutcome>;
  runSteps(execution: WorkflowExecution, steps: readonly CompiledStep[], frame: Frame): Promise<unknown>;
  updateState(
    execution: WorkflowExecution,
    stepId: string,
    path: readonly string[],
    operation: StateOperation,
    value: unknown,
    options?: StateUpdateOptions,
  ): Promise<unknown>;
  runSubWorkflow(execution: WorkflowExecution, input: WorkflowMachineInput): Promise<WorkflowOutcome>;
}

export interface StateUpdateOptions {
  /** The step actor making the update, recorded with it (a resume finds its own update by it). */
  stepActorId?: string;
  /** Already in the log and in the state (a resumed run found it): only its computed fields are evaluated. */
  recorded?: boolean;
}

/** One attempt: the frame's signal, this step's actor id, the attempt number. */
export interface Attempt extends Frame {
  actorId: string;
  attempt: number;
  /** A resumed run re-enters this attempt: it had started (at this seq and clock time) when the process stopped. */
  replaying?: { seq: number; at: number; since: number } | undefined;
}

export async function executeStep(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStep,
  attempt: Attempt,
): Promise<unknown> {
  const scope = () => deps.scopeOf(execution, attempt);
  const render = (template: Parameters<typeof renderValue>[0]) =>
    renderValue(template, scope(), deps.expressionContext);
  const inside: Frame = { ...attempt, parentId: attempt.actorId };
  const fail = (error: Omit<StepError, 'step_id'>): never => {
    throw stepFailure({ ...error, step_id: step.id, attempt: attempt.attempt }, deps.clock.now());
  };
  switch (step.type) {
    case 'mcp_call':
      return callTool(deps, execution, step, attempt, fail);
    case 'shell_command':
      return shellCommand(deps, execution, step, attempt, render, fail);
    case 'conditional': {
      const holds = await evaluateCondition(step.condition, scope(), deps.expressionContext);
      await deps.runSteps(execution, holds ? step.then : step.else, inside);
      return { branch: holds ? 'then' : 'else' };
    }
    case 'state_update': {
      const applied =
        attempt.replaying &&
        execution.replay?.log.stateUpdateAfter(execution.actorId, attempt.actorId, attempt.replaying.since);
      // The update is in the log (the crash came after it): applying it again would count an increment twice.
      if (applied) {
        return deps.updateState(execution, step.id, step.path, 'set', applied.value, {
          recorded: true,
          stepActorId: attempt.actorId,
        });
      }
      const value = step.value === undefined ? undefined : await render(step.value);
      return deps.updateState(execution, step.id, step.path, step.operation, value, { stepActorId: attempt.actorId });
    }
    case 'error': {
      const message = await render(step.message);
      return fail({ message: typeof message === 'string' ? message : JSON.stringify(message), type: 'error' });
    }
    case 'wait': {
      // A resumed wait keeps the deadline it had.
      const started = attempt.replaying?.at ?? deps.clock.now();
      if (step.durationMs !== undefined) {
        await sleep(deps.clock, Math.max(0, started + step.durationMs - deps.clock.now()), attempt.signal);
      } else if (step.until !== undefined) {
        while (!(await evaluateCondition(step.until, scope(), deps.expressionContext))) {
          await sleep(deps.clock, step.intervalMs, attempt.signal);
        }
      }
      return { waited_ms: deps.clock.now() - started };
    }
    case 'poll':
      return poll(deps, execution, step, attempt, fail);
    case 'parallel':
      return parallel(deps, execution, step, inside);
    case 'foreach':
      return foreach(deps, execution, step, inside, render);
    case 'workflow':
      return subWorkflow(deps, execution, step, attempt, render, fail);
    case 'return': {
      const value = await render(step.value);
      execution.returned = { value };
      return value;
    }
  }
}

async function callTool(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'mcp_call'>,
  attempt: Attempt,
  fail: (error: Omit<StepError, 'step_id'>) => never,
): Promise<unknown> {
  const server = step.server ?? (deps.servers.length === 1 ? deps.servers[0] : undefined);
  if (server === undefined) {
    return fail({
      message: `step ${step.id}: name the server of ${JSON.stringify(step.tool)}: the runtime has ${deps.servers.length === 0 ? 'no servers' : `several (${deps.servers.join(', ')})`}`,
      type: 'config',
    });
  }
  const args = await renderValue(step.arguments, deps.scopeOf(execution, attempt), deps.expressionContext);
  const workflowPolicy: ParsedToolPolicyConfig =
    execution.workflow.tools[`${server}/${step.tool}`] ?? execution.workflow.tools[step.tool] ?? {};
  // A resumed attempt's call goes on from its recorded events (see toolCallResume.ts).
  const recorded = attempt.replaying && execution.replay?.log.toolCallEvents(attempt.actorId, attempt.replaying.since);
  const outcome = await deps.callTool(server, step.tool, (args ?? {}) as Record<string, unknown>, {
    runId: execution.runId,
    parentId: attempt.actorId,
    parsedPolicy: { ...workflowPolicy, ...step.policy },
    toolPolicies: execution.workflow.tools,
    signal: attempt.signal,
    ...(recorded && recorded.length > 0 ? { resume: recorded } : {}),
  });
  switch (outcome.status) {
    case 'succeeded':
    case 'fallback':
    case 'cached':
    case 'partial':
      return resultValue(outcome.result);
    case 'skipped':
      return null;
    case 'escalated': {
      const escalation = outcome.escalation;
      return fail({
        message: escalation
          ? `${escalation.level} escalation on ${escalation.server}/${escalation.tool}: ${escalation.message}`
          : `${server}/${step.tool} escalated`,
        type: StepErrorType.escalated,
        ...(escalation ? { escalation } : {}),
      });
    }
    case 'failed': {
      const kind = outcome.error?.kind;
      return fail({
        message: outcome.error?.message ?? `${server}/${step.tool} failed`,
        type: kind === 'cancelled' ? StepErrorType.cancelled : (kind ?? 'failed'),
      });
    }
  }
}

/** A tool's answer as steps read it: its structured content, else its text (parsed when it is JSON). */
export function resultValue(result: RecordedOutcome['result']): unknown {
  if (result === undefined) return null;
  if (result.structuredContent !== undefined) return result.structuredContent;
  const texts = result.content.filter((block) => block.type === 'text').map((block) => block.text);
  if (texts.length !== result.content.length || texts.length === 0) return result;
  const text = texts.join('\n');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function shellCommand(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'shell_command'>,
  attempt: Attempt,
  render: (template: Parameters<typeof renderValue>[0]) => Promise<unknown>,
  fail: (error: Omit<StepError, 'step_id'>) => never,
): Promise<unknown> {
  if (attempt.replaying && !step.idempotent) {
    return fail({
      message: `${step.id}: the command was running when the process stopped; it may have taken effect, and the step is not idempotent (say \`idempotent: true\` to run it again on resume)`,
      type: StepErrorType.escalated,
    });
  }
  const words = await Promise.all(step.argv.map(async (word) => asText(await render(word))));
  const env: Record<string, string> = {};
  for (const [name, template] of step.env) env[name] = asText(await render(template));
  const baseDir = execution.workflow.baseDir;
  const cwd = step.cwd === undefined ? baseDir : resolve(baseDir, asText(await render(step.cwd)));
  const [program = '', ...args] = words;
  // Its start is in the log before it runs (the renders above let the step's started fact be recorded): a crash
  // during the command is then seen on resume, and a command that is not idempotent is not run again unknowingly.
  if (!step.idempotent) await deps.durable(execution.runId);
  let output;
  try {
    output = await runShellCommand({
      argv: [resolveProgram(program, baseDir), ...args],
      env,
      cwd,
      signal: attempt.signal,
    });
  } catch (error) {
    const failure = error as ShellCommandFailure;
    if (failure.kind === 'cancelled')
      return fail({ message: abortReason(attempt.signal), type: StepErrorType.cancelled });
    return fail({ message: failure.message, type: failure.kind });
  }
  const result = { exit_code: output.exit_code, stdout: output.stdout, stderr: output.stderr };
  if (output.exit_code !== 0) {
    const lastLine = output.stderr.trim().split('\n').at(-1) ?? '';
    const how =
      output.exit_code === null
        ? `was killed by ${output.signal ?? 'a signal'}`
        : `exited with code ${output.exit_code}`;
    return fail({
      message: `${program} ${how}${lastLine ? `: ${lastLine}` : ''}`,
      type: output.exit_code === null ? 'signal' : 'exit_code',
      ...(output.exit_code === null ? {} : { exit_code: output.exit_code }),
      stdout: tail(output.stdout),
      stderr: tail(output.stderr),
    });
  }
  return result;
}

async function poll(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: PollStep,
  attempt: Attempt,
  fail: (error: Omit<StepError, 'step_id'>) => never,
): Promise<unknown> {
  const { clock } = deps;
  const startedAt = attempt.replaying?.at ?? clock.now();
  const deadline = step.timeoutMs === undefined ? undefined : startedAt + step.timeoutMs;
  const inside: Frame = { ...attempt, parentId: attempt.actorId };
  // Cancel steps run to their end, whatever stopped the polling.
  const cancelFrame = (locals: Frame['locals']): Frame => ({ ...inside, locals, signal: new AbortController().signal });
  let last: unknown;
  let locals: Frame['locals'] = attempt.locals;
  for (let round = 1; ; round += 1) {
    let outcome: StepOutcome;
    try {
      outcome = await deps.runStep(execution, step.step, {
        ...inside,
        prefix: `${attempt.prefix}${step.id}#${round}.`,
      });
    } catch (error) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw error;
    }
    if (outcome.status === 'failed' || outcome.status === 'cancelled') {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw stepFailure(
        outcome.error ?? { message: `poll ${step.id} failed`, type: outcome.status, step_id: step.id },
        outcome.at,
      );
    }
    last = outcome.result;
    locals = { ...attempt.locals, result: last, attempt: round };
    const scope = deps.scopeOf(execution, { ...inside, locals });
    if (step.failWhen && (await evaluateCondition(step.failWhen, scope, deps.expressionContext))) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      return fail({ message: `poll ${step.id}: fail_when held at round ${round}`, type: 'poll_failed' });
    }
    if (await evaluateCondition(step.until, scope, deps.expressionContext)) return last;
    const outOfPolls = step.maxPolls !== undefined && round >= step.maxPolls;
    const outOfTime = deadline !== undefined && clock.now() + step.intervalMs > deadline;
    if (outOfPolls || outOfTime) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      if (step.onTimeout === 'fail') {
        const why = outOfPolls ? `${round} polls` : `${step.timeoutMs ?? 0} ms`;
        return fail({ message: `poll ${step.id}: not done after ${why}`, type: StepErrorType.timeout });
      }
      if (step.onTimeout !== 'continue') await deps.runSteps(execution, step.onTimeout, { ...inside, locals });
      return last;
    }
    try {
      await sleep(clock, step.intervalMs, attempt.signal);
    } catch (error) {
      await deps.runSteps(execution, step.cancel, cancelFrame(locals)).catch(() => undefined);
      throw error;
    }
  }
}

/** Runs `count` tasks with at most `limit` at a time; the first failure (when `failFast`) aborts the rest. */
async function fanOut(
  deps: StepKindDeps,
  stepId: string,
  count: number,
  limit: number,
  failFast: boolean,
  frame: Frame,
  task: (index: number, signal: AbortSignal) => Promise<unknown>,
): Promise<unknown[]> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(frame.signal.reason);
  frame.signal.addEventListener('abort', onAbort, { once: true });
  if (frame.signal.aborted) onAbort();
  const results: unknown[] = new Array<unknown>(count).fill(null);
  const failures: Array<{ index: number; error: StepError }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !controller.signal.aborted) {
      const index = next++;
      try {
        results[index] = await task(index, controller.signal);
      } catch (error) {
        const failure = isStepFailure(error) ? error.error : { message: String(error), type: 'internal' };
        failures.push({ index, error: failure });
        if (failFast && !controller.signal.aborted) controller.abort(`${stepId}: ${failure.message}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  } finally {
    frame.signal.removeEventListener('abort', onAbort);
  }
  if (frame.signal.aborted) {
    throw stepFailure(
      { message: abortReason(frame.signal), type: StepErrorType.cancelled, step_id: stepId },
      deps.clock.now(),
    );
  }
  // Under fail_fast, branches cancelled because of the first failure are not failures of their own.
  const real = failures.filter((failure) => failure.error.type !== StepErrorType.cancelled || !failFast);
  const first = real.sort((a, b) => a.index - b.index)[0] ?? failures[0];
  if (first === undefined) return results;
  if (failFast || real.length === 1) throw stepFailure(first.error, deps.clock.now());
  throw stepFailure(
    {
      message: `${real.length} of ${count} branches of ${stepId} failed: ${real.map((failure) => failure.error.message).join('; ')}`,
      type: first.error.type,
      step_id: stepId,
      errors: real.map(({ error }) => ({
        message: error.message,
        type: error.type,
        ...(error.step_id === undefined ? {} : { step_id: error.step_id }),
      })),
    },
    deps.clock.now(),
  );
}

function parallel(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: ParallelStep,
  frame: Frame,
): Promise<unknown[]> {
  const count = step.branches.length;
  return fanOut(
    deps,
    step.id,
    count,
    step.concurrency ?? count,
    step.strategy === 'fail_fast',
    frame,
    (index, signal) => deps.runSteps(execution, step.branches[index] ?? [], { ...frame, signal }),
  );
}

async function foreach(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: ForeachStep,
  frame: Frame,
  render: (template: Parameters<typeof renderValue>[0]) => Promise<unknown>,
): Promise<unknown[]> {
  const items = await render(step.items);
  if (!Array.isArray(items)) {
    throw stepFailure(
      {
        message: `foreach ${step.id}: items is ${items === null || items === undefined ? 'nothing' : typeof items}, not a list`,
        type: 'expression',
        step_id: step.id,
      },
      deps.clock.now(),
    );
  }
  return fanOut(deps, step.id, items.length, step.concurrency, true, frame, (index, signal) =>
    deps.runSteps(execution, step.steps, {
      ...frame,
      signal,
      prefix: `${frame.prefix}${step.id}[${index}].`,
      iterationSteps: {},
      locals: { ...frame.locals, [step.as]: items[index] as unknown, [step.indexAs]: index },
    }),
  );
}

async function subWorkflow(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'workflow'>,
  attempt: Attempt,
  render: (template: Parameters<typeof renderValue>[0]) => Promise<unknown>,
  fail: (error: Omit<StepError, 'step_id'>) => never,
): Promise<unknown> {
  const given = (await render(step.inputs)) as Record<string, unknown>;
  let inputs: Record<string, unknown>;
  try {
    inputs = resolveInputs(step.workflow, given ?? {});
  } catch (error) {
    return fail({ message: error instanceof Error ? error.message : String(error), type: 'inputs' });
  }
  const actorId = `${attempt.actorId}:workflow`;
  const child = createExecution({
    runId: execution.runId,
    workflow: step.workflow,
    inputs,
    actorId,
    prefix: `${attempt.actorId}/`,
  });
  const log = execution.replay?.log;
  if (attempt.replaying && log?.startedAfter(actorId, attempt.replaying.since)) {
    // The sub-workflow had started: it is re-entered from the log too, with its state as recorded.
    child.replay = { log, since: attempt.replaying.since };
    Object.assign(child, log.stateAt(actorId, step.workflow.initialState));
  }
  const onAbort = () => child.controller.abort(attempt.signal.reason);
  attempt.signal.addEventListener('abort', onAbort, { once: true });
  if (attempt.signal.aborted) onAbort();
  let outcome: WorkflowOutcome;
  try {
    outcome = await deps.runSubWorkflow(child, {
      actorId,
      parentId: attempt.actorId,
      stepId: step.id,
      name: step.workflow.name,
      file: step.workflow.file,
      hash: workflowHash(step.workflow),
      inputs,
      timeoutMs: step.workflow.timeoutMs,
      startedAt: deps.clock.now(),
    });
  } finally {
    attempt.signal.removeEventListener('abort', onAbort);
  }
  if (outcome.status === 'succeeded') return outcome.result;
  if (outcome.status === 'cancelled' || attempt.signal.aborted) {
    return fail({ message: abortReason(attempt.signal), type: StepErrorType.cancelled });
  }
  return fail(
    outcome.error ?? { message: `sub-workflow ${step.workflow.name} ${outcome.status}`, type: outcome.status },
  );
}

/** Waits on the clock; rejects as cancelled when the signal aborts. */
export function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(stepFailure({ message: abortReason(signal), type: StepErrorType.cancelled }, clock.now()));
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The end of a command's output, for an error record (the whole of it is the step's result only on success). */
function tail(text: string, maxChars = 4096): string {
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

/** Inside argv and env: strings as they are, nothing as empty, anything else as JSON. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
