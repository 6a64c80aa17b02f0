// Workflows as runs: spawn one (compiled, or a file to load) with its inputs, watch it, cancel it, await its end.
import type { Clock, RandomSource } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import { createEventIdFactory } from '../events/eventIds.js';
import type { RetraceEvent } from '../events/retraceEvent.js';
import type { StepError, WorkflowEmitted, WorkflowStatus } from '../machines/workflowTypes.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import { resolveInputs } from '../workflow/inputs.js';
import { loadWorkflow } from '../workflow/loadWorkflow.js';
import type { Logger } from './logger.js';
import type { CallOptions, RecordedOutcome } from './runtime.js';
import { createExecutor } from './workflowExecutor.js';
import { createExecution, workflowHash, type WorkflowExecution } from './workflowExecution.js';

export interface SpawnOptions {
  /** The run's id (a new ULID by default); a run with this id must not be running here already. */
  runId?: string;
}

export type WorkflowFinalStatus = Exclude<WorkflowStatus, 'running'>;

/** What a run ended with: `retrace run --json`'s last line. */
export interface WorkflowFinal {
  runId: string;
  status: WorkflowFinalStatus;
  state: Record<string, unknown>;
  computed: Record<string, unknown>;
  /** A `return` step's value, null without one. */
  result: unknown;
  error?: StepError;
  steps: number;
}

export interface WorkflowSnapshot {
  runId: string;
  name: string;
  status: WorkflowStatus;
  /** Actor ids of the steps running now (`deploy`, `per_region[1].record`, `notify/say`). */
  currentSteps: string[];
  state: Record<string, unknown>;
  computed: Record<string, unknown>;
  steps: number;
  final?: WorkflowFinal;
}

export interface WorkflowHandle {
  readonly runId: string;
  snapshot(): WorkflowSnapshot;
  /** Every event of the run (workflow and tool-call facts) once it is recorded, in seq order. */
  subscribe(listener: (event: RetraceEvent) => void): () => void;
  /** Settles once the run ended and every event of it is durable; rejects when the workflow cannot start. */
  readonly done: Promise<WorkflowFinal>;
  /** Cancels in-flight steps and calls, runs their cleanup, then ends the run as cancelled. */
  cancel(reason?: string): void;
}

export interface WorkflowSummary {
  runId: string;
  name: string;
  status: WorkflowStatus;
  startedAt: number;
}

export interface WorkflowHostDeps {
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  config: RuntimeConfig;
  callTool(server: string, tool: string, args: Record<string, unknown>, options: CallOptions): Promise<RecordedOutcome>;
  record(runId: string, fact: WorkflowEmitted): void;
  /** Waits until the run's events are durable and ends its recording. */
  finishRun(runId: string): Promise<void>;
  subscribeRun(runId: string, listener: (event: RetraceEvent) => void): () => void;
  isClosed(): boolean;
  /** Connects the servers the workflow declares for this run; throws when one clashes; the release runs at its end. */
  attachServers?(workflow: CompiledWorkflow): () => void;
}

export interface WorkflowHost {
  spawn(workflow: CompiledWorkflow | string, inputs?: Record<string, unknown>, options?: SpawnOptions): WorkflowHandle;
  list(): WorkflowSummary[];
  /** Cancels every running workflow and waits for them to end. */
  close(): Promise<void>;
}

interface Entry {
  handle: WorkflowHandle;
  summary: WorkflowSummary;
  execution: WorkflowExecution | undefined;
  final: WorkflowFinal | undefined;
}

export function createWorkflowHost(deps: WorkflowHostDeps): WorkflowHost {
  const { clock } = deps;
  const newRunId = createEventIdFactory({ clock, random: deps.random });
  const entries = new Map<string, Entry>();
  const executor = createExecutor({
    clock,
    random: deps.random,
    logger: deps.logger,
    callTool: deps.callTool,
    servers: Object.keys(deps.config.servers),
    record: deps.record,
  });

  async function load(workflow: CompiledWorkflow | string): Promise<CompiledWorkflow> {
    if (typeof workflow !== 'string') return workflow;
    return (await loadWorkflow(workflow, { config: deps.config })).workflow;
  }

  function spawn(
    workflow: CompiledWorkflow | string,
    given: Record<string, unknown> = {},
    options: SpawnOptions = {},
  ): WorkflowHandle {
    if (deps.isClosed()) throw new RetraceError(ErrorCode.closed, 'the runtime is closed');
    const runId = options.runId ?? newRunId();
    const existing = entries.get(runId);
    if (existing && existing.summary.status === 'running') {
      throw new RetraceError(ErrorCode.badArguments, `run ${runId} is already running`);
    }
    let cancelled: string | undefined;
    const unsubscribers: Array<() => void> = [];
    const entry: Entry = {
      handle: undefined as unknown as WorkflowHandle,
      summary: {
        runId,
        name: typeof workflow === 'string' ? workflow : workflow.name,
        status: 'running',
        startedAt: clock.now(),
      },
      execution: undefined,
      final: undefined,
    };

    async function run(): Promise<WorkflowFinal> {
      // Started after the caller has had the handle, so its subscribers see the first event.
      await Promise.resolve();
      const compiled = await load(workflow);
      // Released with the subscriptions, once the run has ended (see `done` below).
      if (deps.attachServers) unsubscribers.push(deps.attachServers(compiled));
      const inputs = resolveInputs(compiled, given);
      const execution = createExecution({ runId, workflow: compiled, inputs, actorId: runId, prefix: '' });
      entry.execution = execution;
      entry.summary.name = compiled.name;
      if (cancelled !== undefined) execution.controller.abort(cancelled);
      try {
        const outcome = await executor.runWorkflow(execution, {
          actorId: runId,
          parentId: undefined,
          stepId: undefined,
          name: compiled.name,
          file: compiled.file,
          hash: workflowHash(compiled),
          inputs,
          timeoutMs: compiled.timeoutMs,
          startedAt: clock.now(),
        });
        await deps.finishRun(runId);
        const final: WorkflowFinal = {
          runId,
          status: outcome.status,
          state: execution.state,
          computed: execution.computed,
          result: outcome.result ?? null,
          steps: outcome.steps,
          ...(outcome.error === undefined ? {} : { error: outcome.error }),
        };
        entry.final = final;
        entry.summary.status = final.status;
        // The final has what a snapshot shows of an ended run: the execution (step results, inputs) can go.
        entry.execution = undefined;
        return final;
      } catch (error) {
        entry.summary.status = 'failed';
        throw error;
      }
    }

    const done = run();
    done
      .catch(() => undefined)
      .finally(() => {
        for (const unsubscribe of unsubscribers) unsubscribe();
      })
      .catch(() => undefined);
    if (entry.summary.status === 'running') void done.catch(() => (entry.summary.status = 'failed'));

    const handle: WorkflowHandle = {
      runId,
      done,
      snapshot() {
        const { execution, final } = entry;
        return {
          runId,
          name: entry.summary.name,
          status: entry.summary.status,
          currentSteps: execution ? [...execution.running] : [],
          state: execution?.state ?? final?.state ?? {},
          computed: execution?.computed ?? final?.computed ?? {},
          steps: execution?.stepsExecuted ?? final?.steps ?? 0,
          ...(entry.final ? { final: entry.final } : {}),
        };
      },
      subscribe(listener) {
        const unsubscribe = deps.subscribeRun(runId, listener);
        unsubscribers.push(unsubscribe);
        return unsubscribe;
      },
      cancel(reason = 'cancelled by the caller') {
        if (entry.final) return;
        const execution = entry.execution;
        if (execution?.cancel) execution.cancel(reason);
        else if (execution) execution.controller.abort(reason);
        else cancelled ??= reason;
      },
    };
    entry.handle = handle;
    entries.set(runId, entry);
    return handle;
  }

  return {
    spawn,
    list: () => [...entries.values()].map((entry) => ({ ...entry.summary })),
    async close() {
      const running = [...entries.values()].filter((entry) => entry.summary.status === 'running');
      for (const entry of running) entry.handle.cancel('the runtime is closing');
      await Promise.all(running.map((entry) => entry.handle.done.catch(() => undefined)));
    },
  };
}
