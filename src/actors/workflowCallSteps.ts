// What the steps that act outside the workflow do in one attempt: mcp_call (through the runtime) and shell_command.
import { resolve } from 'node:path';
import { StepErrorType } from '../machines/workflowTypes.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import type { CompiledStepOf } from '../workflow/compiledWorkflow.js';
import { renderValue } from '../workflow/render.js';
import type { RecordedOutcome } from './runtime.js';
import { resolveProgram, runShellCommand, type ShellCommandFailure } from './shellCommand.js';
import { abortReason, type WorkflowExecution } from './workflowExecution.js';
import type { Attempt, Fail, Render, StepKindDeps } from './workflowSteps.js';

export async function callTool(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'mcp_call'>,
  attempt: Attempt,
  fail: Fail,
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

export async function shellCommand(
  deps: StepKindDeps,
  execution: WorkflowExecution,
  step: CompiledStepOf<'shell_command'>,
  attempt: Attempt,
  render: Render,
  fail: Fail,
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

/** The end of a command's output, for an error record (the whole of it is the step's result only on success). */
function tail(text: string, maxChars = 4096): string {
  return text.length <= maxChars ? text : `…${text.slice(-maxChars)}`;
}

/** Inside argv and env: strings as they are, nothing as empty, anything else as JSON. */
function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
