// Continuing a host's runs from their log: resume an unfinished run, resolve one waiting on an escalation, list those to resume.
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { HostRuns, Resumed } from './workflowHost.js';
import type { WorkflowFinal, WorkflowHandle } from './workflowRun.js';
import { createReplayLog } from './workflowReplay.js';
import {
  checkResolution,
  checkResumable,
  checkSameDefinition,
  resumeInputs,
  runLogState,
  workflowToLoad,
  type Resolution,
  type ResumeOptions,
} from './workflowResume.js';

export interface RunContinuation {
  resume(runId: string, options?: ResumeOptions): Promise<WorkflowHandle>;
  resolve(runId: string, resolution: Resolution, options?: ResumeOptions): Promise<WorkflowFinal>;
  resumable(): Promise<string[]>;
}

export function createRunContinuation(runs: HostRuns): RunContinuation {
  const { deps, entries, clock } = runs;
  const { load, checkOpen, checkNotRunning, createEntry, handleOf, launch } = runs;

  /** Runs being resumed or resolved: a second resume or resolution of one of them is refused. */
  const continuing = new Set<string>();

  async function exclusively<T>(runId: string, work: () => Promise<T>): Promise<T> {
    checkOpen();
    checkNotRunning(runId);
    if (continuing.has(runId)) {
      throw new RetraceError(ErrorCode.runState, `run ${runId} is already being resumed in this runtime`);
    }
    continuing.add(runId);
    try {
      return await work();
    } finally {
      continuing.delete(runId);
    }
  }

  function replayOf(runId: string, events: EventEnvelope[], started: EventEnvelope, reason: string): Resumed {
    deps.recall?.(events);
    return { log: createReplayLog(runId, events), started, reason };
  }

  function resume(runId: string, options: ResumeOptions = {}): Promise<WorkflowHandle> {
    return exclusively(runId, async () => {
      const events = await deps.readRun(runId);
      const state = runLogState(runId, events);
      checkResumable(runId, state);
      const workflow = await load(workflowToLoad(runId, state.started, options.workflow));
      checkSameDefinition(runId, state.started, workflow, options.force ?? false);
      const inputs = resumeInputs(runId, state.started, workflow, options.inputs);
      const resumed = replayOf(runId, events, state.started, 'resumed after the process stopped');
      const entry = createEntry(runId, workflow.name);
      return handleOf(
        entry,
        launch(entry, () => Promise.resolve({ workflow, inputs, resumed })),
      );
    });
  }

  function resolve(runId: string, resolution: Resolution, options: ResumeOptions = {}): Promise<WorkflowFinal> {
    const continued = exclusively(runId, async () => {
      const events = await deps.readRun(runId);
      const state = runLogState(runId, events);
      const stepActorId = checkResolution(runId, state, resolution);
      const entry = entries.get(runId);
      const known = entry?.waiting;
      // Loaded and checked before the resolution is recorded: one the run cannot act on is not written.
      const workflow = known?.workflow ?? (await load(workflowToLoad(runId, state.started, options.workflow)));
      checkSameDefinition(runId, state.started, workflow, options.force ?? false);
      const inputs = known?.inputs ?? resumeInputs(runId, state.started, workflow, options.inputs);
      deps.continueRun(runId, events.at(-1)?.seq ?? 0);
      deps.record(runId, {
        type: 'workflow.resolved',
        actorId: runId,
        at: clock.now(),
        stepActorId,
        action: resolution.action,
        ...(resolution.action === 'value' ? { value: resolution.value } : {}),
        ...(resolution.by === undefined ? {} : { by: resolution.by }),
        ...(resolution.note === undefined ? {} : { note: resolution.note }),
      });
      await deps.finishRun(runId);
      // The run goes on through the resume path: the resolution is in the log it reads.
      const target = entry ?? createEntry(runId, workflow.name);
      const reason = `resolved: ${resolution.action}`;
      const done = launch(target, async () => {
        const resumed = replayOf(runId, await deps.readRun(runId), state.started, reason);
        return { workflow, inputs, resumed };
      });
      if (!entry) handleOf(target, done);
      return { done };
    });
    return continued.then(({ done }) => done);
  }

  return {
    resume,
    resolve,
    async resumable(): Promise<string[]> {
      const ids: string[] = [];
      for (const runId of await deps.listRuns()) {
        if (entries.get(runId)?.summary.status === 'running') continue;
        const events = await deps.readRun(runId);
        if (!events.some((event) => event.type === 'workflow.started' && event.actorId === runId)) continue;
        if (runLogState(runId, events).status === 'running') ids.push(runId);
      }
      return ids;
    },
  };
}
