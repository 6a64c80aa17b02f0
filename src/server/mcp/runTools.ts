// The tools that start and steer runs: workflow_start, workflow_status, workflow_list, workflow_cancel,
// workflow_resume, workflow_resolve. Runs execute in the server's runtime; their status is read from the log.
import { z } from 'zod';
import { cancelUnownedRun } from '../../actors/cancelUnownedRun.js';
import { sendControlRequest } from '../../actors/runControl.js';
import { hasEnded, observeRun, observeRuns, type ObservedRun } from '../../actors/runObservation.js';
import type { Resolution } from '../../actors/workflowResume.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { ResolutionAction } from '../../events/workflowEvents.js';
import { resolveInputs } from '../../workflow/inputs.js';
import { defineTool } from './defineTool.js';
import type { McpHost } from './mcpHost.js';
import type { ToolExtra } from './defineTool.js';
import { currentStatus, firstEventRecorded, followRun, RunStatus, type FollowOptions } from './runFollow.js';
import { loadWorkflowSource, parseInputsArgument } from './workflowSource.js';

const RunId = z.string().min(1).describe('the run id (workflow_start returns it; workflow_list lists them)');
const Inputs = z
  .union([z.record(z.string(), z.unknown()), z.string()])
  .describe('the workflow inputs: a mapping of name to value, or its JSON text');
const TimeoutSeconds = z
  .number()
  .positive()
  .optional()
  .describe('with wait: give up waiting after this many seconds (the run goes on); default: until it ends');

const isOtherProcess = (observed: ObservedRun): boolean =>
  observed.owner !== undefined && observed.owner.pid !== process.pid;

export const workflowStart = defineTool({
  name: 'workflow_start',
  description:
    "Start a workflow as a recorded run in this server and return its run id once the run is in the log. `workflow` is a file path (relative to the server's directory) or the workflow YAML itself (text with line breaks). With wait: true, waits until the run ends or escalates, with progress notifications.",
  input: z.object({
    workflow: z.string().describe('a workflow file path, or the workflow YAML text'),
    inputs: Inputs.optional(),
    run_id: z.string().min(1).optional().describe('the run id (default: a new ULID)'),
    wait: z.boolean().default(false).describe('wait until the run ends or escalates'),
    timeout_seconds: TimeoutSeconds,
  }),
  output: RunStatus.extend({ warnings: z.array(z.string()) }),
  annotations: { title: 'Start a workflow', readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  async run(args, host, extra) {
    const { workflow, warnings } = await loadWorkflowSource(args.workflow, {
      config: host.runtime.config,
      cwd: host.cwd,
    });
    const inputs = resolveInputs(workflow, parseInputsArgument(args.inputs));
    if (args.run_id !== undefined && (await host.store.read(args.run_id)).length > 0) {
      throw new RetraceError(ErrorCode.badArguments, `run_id: the log already has a run "${args.run_id}"`);
    }
    const handle = host.runtime.spawn(workflow, inputs, args.run_id === undefined ? {} : { runId: args.run_id });
    await firstEventRecorded(handle);
    const status = await followRun(host, handle.runId, extra, {
      wait: args.wait,
      timeoutSeconds: args.timeout_seconds,
    });
    return { ...status, warnings };
  },
});

export const workflowStatus = defineTool({
  name: 'workflow_status',
  description:
    'One workflow run as the log says (`retrace status RUN --json`): status (running, escalated — waiting for workflow_resolve —, succeeded, failed, cancelled, or interrupted when no live process owns it), state, result, error; while running, the steps under way.',
  input: z.object({ run_id: RunId }),
  output: RunStatus,
  annotations: { title: 'Status of a run', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    return currentStatus(host, args.run_id);
  },
});

const RunSummary = z.object({
  runId: z.string(),
  name: z.string(),
  status: RunStatus.shape.status,
  startedAt: z.string(),
  endedAt: z.string().optional(),
  steps: z.number(),
  currentSteps: z.array(z.string()),
  waitingStep: z.string().optional(),
  error: z.string().optional(),
});

export const workflowList = defineTool({
  name: 'workflow_list',
  description:
    'The workflow runs of the log, oldest first: those running, interrupted or escalated, or with all: true every one.',
  input: z.object({ all: z.boolean().default(false).describe('ended runs too') }),
  output: z.object({ runs: z.array(RunSummary) }),
  annotations: { title: 'List runs', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    const runs = await observeRuns(host.store, host.dataDir, args.all);
    return {
      runs: runs.map(({ view, status }) => ({
        runId: view.runId,
        name: view.name,
        status,
        startedAt: new Date(view.startedAt ?? 0).toISOString(),
        ...(view.endedAt === undefined ? {} : { endedAt: new Date(view.endedAt).toISOString() }),
        steps: view.steps,
        currentSteps: [...view.currentSteps],
        ...(view.waitingStep === undefined ? {} : { waitingStep: view.waitingStep }),
        ...(view.error === undefined ? {} : { error: `${view.error.type}: ${view.error.message}` }),
      })),
    };
  },
});

export const workflowCancel = defineTool({
  name: 'workflow_cancel',
  description:
    'Cancel a run: its in-flight steps and calls are cancelled and their cleanup runs; a run waiting on an escalation has its waiting step aborted; an interrupted run is resumed and cancelled. Waits for the end unless wait: false.',
  input: z.object({
    run_id: RunId,
    reason: z.string().optional().describe('why (recorded in workflow.cancelled)'),
    wait: z.boolean().default(true).describe('wait until the run ended'),
    timeout_seconds: TimeoutSeconds,
  }),
  output: RunStatus,
  annotations: { title: 'Cancel a run', readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  async run(args, host, extra) {
    const observed = await observeRun(host.store, host.dataDir, args.run_id);
    if (hasEnded(observed.status)) {
      throw new RetraceError(
        ErrorCode.runState,
        `run ${args.run_id} already ended (${observed.status}): nothing to cancel`,
      );
    }
    const reason = args.reason ?? 'cancelled with workflow_cancel';
    if (observed.owner) {
      // Its owner (this server, or another process) picks the request up and cancels the run.
      await sendControlRequest(host.dataDir, { runId: args.run_id, action: 'cancel', reason, requestedAt: Date.now() });
      const afterSeq = observed.status === 'escalated' ? observed.view.lastSeq : undefined;
      const follow = { wait: args.wait, timeoutSeconds: args.timeout_seconds, afterSeq };
      return await followRun(host, args.run_id, extra, follow);
    }
    const done = cancelUnownedRun(host.runtime, observed, reason);
    if (args.wait) await done;
    else done.catch(() => undefined);
    return currentStatus(host, args.run_id);
  },
});

export const workflowResume = defineTool({
  name: 'workflow_resume',
  description:
    'Continue an interrupted run (its process died) from its log in this server: completed steps are not run again. Refused for a run that ended, waits on an escalation (use workflow_resolve) or is running.',
  input: z.object({
    run_id: RunId,
    inputs: Inputs.optional().describe('inputs the log redacted, given again (as `retrace resume --input`)'),
    force: z.boolean().default(false).describe('resume even though the workflow file changed since the run started'),
    wait: z.boolean().default(false).describe('wait until the run ends or escalates'),
    timeout_seconds: TimeoutSeconds,
  }),
  output: RunStatus,
  annotations: { title: 'Resume a run', readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  async run(args, host, extra) {
    const observed = await observeRun(host.store, host.dataDir, args.run_id);
    if (isOtherProcess(observed)) {
      throw new RetraceError(
        ErrorCode.runState,
        `run ${args.run_id} is executed by process ${observed.owner?.pid ?? '?'} on ${observed.owner?.hostname ?? '?'}: nothing to resume`,
      );
    }
    const handle = await host.runtime.resume(args.run_id, {
      force: args.force,
      ...(args.inputs === undefined ? {} : { inputs: parseInputsArgument(args.inputs) }),
    });
    await firstEventRecorded(handle);
    const follow = { wait: args.wait, timeoutSeconds: args.timeout_seconds };
    return await followRun(host, args.run_id, extra, follow);
  },
});

export const workflowResolve = defineTool({
  name: 'workflow_resolve',
  description:
    'Answer the escalation a run waits on: retry (the waiting step runs again), skip (its result is null), abort (it fails; cleanup runs; the run fails) or value (its result is `value`). The run continues in this server; waits until it ends or escalates again unless wait: false. A run whose inputs the log redacted (a secret) needs them given again in `inputs`, unless a live process keeps it (that process has them).',
  input: z.object({
    run_id: RunId,
    action: ResolutionAction,
    value: z.unknown().optional().describe("with action 'value': the waiting step's result"),
    inputs: Inputs.optional().describe(
      'inputs the log redacted, given again (as `retrace resolve --input`); not needed when a live process keeps the run',
    ),
    by: z.string().optional().describe('who resolved it (recorded)'),
    note: z.string().optional().describe('why (recorded)'),
    wait: z.boolean().default(true).describe('wait until the run ends or escalates again'),
    timeout_seconds: TimeoutSeconds,
  }),
  output: RunStatus,
  annotations: { title: 'Resolve an escalation', readOnlyHint: false, destructiveHint: false, openWorldHint: true },
  async run(args, host, extra) {
    const observed = await observeRun(host.store, host.dataDir, args.run_id);
    if (observed.status !== 'escalated') {
      throw new RetraceError(
        ErrorCode.runState,
        `run ${args.run_id} is ${observed.status}, not waiting on an escalation: nothing to resolve`,
      );
    }
    if (args.action === 'value' && args.value === undefined) {
      throw new RetraceError(ErrorCode.badArguments, "value: action 'value' needs the waiting step's result as value");
    }
    const resolution = {
      action: args.action,
      ...(args.action === 'value' ? { value: args.value } : {}),
      ...(args.by === undefined ? {} : { by: args.by }),
      ...(args.note === undefined ? {} : { note: args.note }),
    };
    // Parsed first, so that a bad `inputs` is refused whoever continues the run.
    const inputs = parseInputsArgument(args.inputs);
    const afterSeq = observed.view.lastSeq;
    if (isOtherProcess(observed)) {
      await sendControlRequest(host.dataDir, {
        runId: args.run_id,
        action: 'resolve',
        resolution,
        requestedAt: Date.now(),
      });
      const follow = { wait: args.wait, timeoutSeconds: args.timeout_seconds, afterSeq };
      return await followRun(host, args.run_id, extra, follow);
    }
    return resolveHere(host, args.run_id, resolution, inputs, extra, {
      wait: args.wait,
      timeoutSeconds: args.timeout_seconds,
      afterSeq,
    });
  },
});

/**
 * Resolves the run in this server's runtime and follows it: to its next end, or (not waiting) until the resolution is
 * in the log. A resolution the runtime refuses (the workflow changed, …) comes back as the tool's error.
 */
async function resolveHere(
  host: McpHost,
  runId: string,
  resolution: Resolution,
  inputs: Record<string, unknown>,
  extra: ToolExtra,
  follow: FollowOptions,
): Promise<RunStatus> {
  const continued = host.runtime.resolve(runId, resolution, { inputs });
  const refused = new AbortController();
  continued.catch(() => refused.abort());
  const stopAt = follow.wait ? undefined : (event: { type: string }) => event.type === 'workflow.resolved';
  const status = followRun(host, runId, extra, { ...follow, stopAt, signal: refused.signal });
  // The run may end (or be refused) before the log is followed: whichever comes first, then its status.
  await Promise.race([status, continued]);
  return status;
}
