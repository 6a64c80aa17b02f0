// Workflows as runs: spawn one (compiled, or a file to load) with its inputs, watch it, cancel it, await its end;
// resuming and resolving (workflowHostResume.ts) start their executions here too.
import { createAdmission } from './admission.js';
import type { InspectObserver } from './actorInspection.js';
import type { Clock, RandomSource } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { RuntimeConfig } from '../config/runtimeConfig.js';
import type { EventEnvelope } from '../events/envelope.js';
import { createEventIdFactory } from '../events/eventIds.js';
import type { RetraceEvent } from '../events/retraceEvent.js';
import type { WorkflowEmitted } from '../machines/workflowTypes.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import { resolveInputs } from '../workflow/inputs.js';
import { loadWorkflow } from '../workflow/loadWorkflow.js';
import type { Logger } from './logger.js';
import type { CallOptions, RecordedOutcome } from './runtime.js';
import { createExecutor } from './workflowExecutor.js';
import { createExecution, workflowHash, type WorkflowExecution } from './workflowExecution.js';
import { createRunContinuation } from './workflowHostResume.js';
import type { ReplayLog } from './workflowReplay.js';
import type { Resolution, ResumeOptions } from './workflowResume.js';
import type { SpawnOptions, WorkflowFinal, WorkflowHandle, WorkflowSummary } from './workflowRun.js';

export type {
  SpawnOptions,
  WorkflowFinal,
  WorkflowFinalStatus,
  WorkflowHandle,
  WorkflowSnapshot,
  WorkflowSummary,
} from './workflowRun.js';

export interface WorkflowHostDeps {
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  config: RuntimeConfig;
  callTool(server: string, tool: string, args: Record<string, unknown>, options: CallOptions): Promise<RecordedOutcome>;
  record(runId: string, fact: WorkflowEmitted): void;
  /** Waits until what the run recorded so far is durable. */
  durable(runId: string): Promise<void>;
  /** Waits until the run's events are durable and ends its recording. */
  finishRun(runId: string): Promise<void>;
  /** Why the run's events can no longer be recorded, once one failed to be: no step of it starts from then on. */
  unrecordable?(runId: string): Error | undefined;
  /** Calls `listener` at the run's first failure to record: its execution stops there. Returns the unsubscribe. */
  onUnrecordable?(runId: string, listener: (error: Error) => void): () => void;
  subscribeRun(runId: string, listener: (event: RetraceEvent) => void): () => void;
  /** The run's recorded events in seq order (a resume reads them); throws without a store. */
  readRun(runId: string): Promise<EventEnvelope[]>;
  /** The ids of the store's runs. */
  listRuns(): Promise<string[]>;
  /** Told the events of a run about to continue (resume, resolve): what its process held in memory is rebuilt from them. */
  recall?(events: readonly EventEnvelope[]): void;
  /** Continues the run's seq after `lastSeq` (its last recorded event). */
  continueRun(runId: string, lastSeq: number): void;
  isClosed(): boolean;
  /** Connects the servers the workflow declares for this run; throws when one clashes; the release runs at its end. */
  attachServers?(workflow: CompiledWorkflow): () => void;
  /** Told when a run starts executing here and once it ended, before `done` settles (ownership, control requests). */
  onRunStarted?(handle: WorkflowHandle): Promise<void>;
  /** `waiting`: the run stopped on an escalation and this process keeps it (a resolve continues it here). */
  onRunEnded?(runId: string, waiting: boolean): Promise<void>;
  /**
   * How many runs execute at once; the others wait their turn in spawn order (their handles work meanwhile, a cancel
   * included). Bounds memory when thousands are spawned together. Unbounded when absent or 0.
   */
  maxRunning?: number;
  /** How many ended runs (not waiting on a person) `list()` keeps, the oldest let go first. */
  keepEnded: number;
  /** The Stately inspector's observer, given to every workflow and step actor. */
  inspect?: InspectObserver;
}

export interface WorkflowHost {
  spawn(workflow: CompiledWorkflow | string, inputs?: Record<string, unknown>, options?: SpawnOptions): WorkflowHandle;
  /** Continues an unfinished run of the store from its events (see docs/workflows.md, "Resuming"). */
  resume(runId: string, options?: ResumeOptions): Promise<WorkflowHandle>;
  /** Answers the escalation a run waits on and continues it here; resolves with its new final. */
  resolve(runId: string, resolution: Resolution, options?: ResumeOptions): Promise<WorkflowFinal>;
  list(): WorkflowSummary[];
  /** The store's workflow runs that are unfinished and not waiting on a person: what `resume --all` resumes. */
  resumable(): Promise<string[]>;
  /** Cancels every running workflow and waits for them to end. */
  close(): Promise<void>;
}

export interface Entry {
  handle: WorkflowHandle;
  summary: WorkflowSummary;
  execution: WorkflowExecution | undefined;
  final: WorkflowFinal | undefined;
  /** A cancel asked for before the execution existed. */
  cancelled: string | undefined;
  /** Kept while the run waits on an escalation, so a resolution can continue it without loading it again. */
  waiting: { workflow: CompiledWorkflow; inputs: Record<string, unknown> } | undefined;
  unsubscribers: Array<() => void>;
}

/** How an execution starts: a new run, or a run re-entered from its log. */
export interface Resumed {
  log: ReplayLog;
  started: EventEnvelope;
  reason: string;
}

export interface Start {
  workflow: CompiledWorkflow;
  inputs: Record<string, unknown>;
  resumed?: Resumed;
}

/** What continuing a run from its log (workflowHostResume.ts) uses of the host. */
export interface HostRuns {
  deps: WorkflowHostDeps;
  clock: Clock;
  entries: ReadonlyMap<string, Entry>;
  load(workflow: CompiledWorkflow | string): Promise<CompiledWorkflow>;
  checkOpen(): void;
  checkNotRunning(runId: string): void;
  createEntry(runId: string, name: string): Entry;
  handleOf(entry: Entry, done: Promise<WorkflowFinal>): WorkflowHandle;
  /** Runs an execution of the entry's run; a run that ended (not waiting on a person) lets its subscribers go. */
  launch(entry: Entry, start: () => Promise<Start>): Promise<WorkflowFinal>;
}

export function createWorkflowHost(deps: WorkflowHostDeps): WorkflowHost {
  const { clock } = deps;
  const newRunId = createEventIdFactory({ clock, random: deps.random });
  const entries = new Map<string, Entry>();
  /** Runs that ended and wait on nobody, oldest first: beyond `keepEnded` they leave `entries` (and memory). */
  const ended = new Set<string>();
  const admission = createAdmission(deps.maxRunning ?? 0);
  /** Every execution until it settled (its run given up by `onRunEnded` included): `close` waits for them all. */
  const executing = new Set<Promise<WorkflowFinal>>();
  const executor = createExecutor({
    clock,
    random: deps.random,
    logger: deps.logger,
    callTool: deps.callTool,
    servers: Object.keys(deps.config.servers),
    record: deps.record,
    durable: deps.durable,
    ...(deps.unrecordable === undefined ? {} : { unrecordable: deps.unrecordable }),
    ...(deps.inspect === undefined ? {} : { inspect: deps.inspect }),
  });

  async function load(workflow: CompiledWorkflow | string): Promise<CompiledWorkflow> {
    if (typeof workflow !== 'string') return workflow;
    return (await loadWorkflow(workflow, { config: deps.config })).workflow;
  }

  function checkOpen(): void {
    if (deps.isClosed()) throw new RetraceError(ErrorCode.closed, 'the runtime is closed');
  }

  function checkNotRunning(runId: string): void {
    if (entries.get(runId)?.summary.status === 'running') {
      throw new RetraceError(ErrorCode.runState, `run ${runId} is already running in this runtime`);
    }
  }

  /**
   * Runs one execution of the entry's run to its final (a spawn, a resume, or the continuation after a resolve),
   * owned by this process meanwhile (`onRunStarted` / `onRunEnded`: the owner file other processes look for).
   */
  async function execute(entry: Entry, start: () => Promise<Start>): Promise<WorkflowFinal> {
    // Started after the caller has had the handle, so its subscribers see the first event.
    await Promise.resolve();
    await admission.enter();
    try {
      await deps.onRunStarted?.(entry.handle);
      try {
        return await executeOwned(entry, start);
      } finally {
        await deps.onRunEnded?.(entry.summary.runId, entry.final?.status === 'escalated');
      }
    } finally {
      admission.leave();
    }
  }

  async function executeOwned(entry: Entry, start: () => Promise<Start>): Promise<WorkflowFinal> {
    const { runId } = entry.summary;
    const { workflow, inputs, resumed } = await start();
    // The servers the workflow declares, connected for this execution and released at its end.
    const releaseServers = deps.attachServers?.(workflow);
    const execution = createExecution({ runId, workflow, inputs, actorId: runId, prefix: '' });
    let startedAt = clock.now();
    if (resumed) {
      const { log, started, reason } = resumed;
      deps.continueRun(runId, log.lastSeq);
      deps.record(runId, {
        type: 'workflow.resumed',
        actorId: runId,
        at: clock.now(),
        previousSeq: log.lastSeq,
        stepsReplayed: log.recordedOutcomes,
        reason,
      });
      execution.replay = { log, since: 0 };
      Object.assign(execution, log.stateAt(runId, workflow.initialState));
      startedAt = started.ts;
    }
    entry.execution = execution;
    entry.summary.name = workflow.name;
    if (entry.cancelled !== undefined) execution.controller.abort(entry.cancelled);
    // Work that can never be made durable stops at the first event that could not be recorded: the steps running are
    // cancelled, none starts (see the executor), and the run ends with the store's error (finishRun throws it).
    const stopListening = deps.onUnrecordable?.(runId, (error) => {
      if (execution.cancel) execution.cancel(error.message);
      else execution.controller.abort(error.message);
    });
    try {
      const outcome = await executor.runWorkflow(execution, {
        actorId: runId,
        parentId: undefined,
        stepId: undefined,
        name: workflow.name,
        // Absolute, so `retrace resume` finds the file from any directory.
        file: workflow.path ?? workflow.file,
        hash: workflowHash(workflow),
        inputs,
        initialState: structuredClone(workflow.initialState),
        // A resumed run keeps the deadline it started with.
        timeoutMs:
          workflow.timeoutMs === undefined ? undefined : Math.max(0, startedAt + workflow.timeoutMs - clock.now()),
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
      entry.waiting = final.status === 'escalated' ? { workflow, inputs } : undefined;
      // The final has what a snapshot shows of an ended run: the execution (step results, inputs) can go.
      entry.execution = undefined;
      return final;
    } catch (error) {
      entry.summary.status = 'failed';
      throw error;
    } finally {
      stopListening?.();
      releaseServers?.();
    }
  }

  /** Counts the entry among the ended runs and lets the oldest go beyond `keepEnded` (its handle keeps working). */
  function forgetEnded(entry: Entry): void {
    const { runId } = entry.summary;
    if (entries.get(runId) !== entry || entry.summary.status === 'running') return;
    ended.add(runId);
    for (const oldest of ended) {
      if (ended.size <= deps.keepEnded) break;
      ended.delete(oldest);
      if (entries.get(oldest)?.summary.status !== 'running') entries.delete(oldest);
    }
  }

  /** Runs the execution; a run that ended (not waiting on a person) lets its subscribers go. */
  function launch(entry: Entry, start: () => Promise<Start>): Promise<WorkflowFinal> {
    ended.delete(entry.summary.runId);
    entry.summary.status = 'running';
    entry.final = undefined;
    const done = execute(entry, start);
    executing.add(done);
    const settled = () => void executing.delete(done);
    done.then(settled, settled);
    done
      .then(
        (final) => final.status !== 'escalated',
        () => true,
      )
      .then((isEnded) => {
        if (!isEnded) return;
        for (const unsubscribe of entry.unsubscribers.splice(0)) unsubscribe();
        forgetEnded(entry);
      })
      .catch(() => undefined);
    void done.catch(() => (entry.summary.status = 'failed'));
    return done;
  }

  function createEntry(runId: string, name: string): Entry {
    const entry: Entry = {
      handle: undefined as unknown as WorkflowHandle,
      summary: { runId, name, status: 'running', startedAt: clock.now() },
      execution: undefined,
      final: undefined,
      cancelled: undefined,
      waiting: undefined,
      unsubscribers: [],
    };
    entries.set(runId, entry);
    return entry;
  }

  function handleOf(entry: Entry, done: Promise<WorkflowFinal>): WorkflowHandle {
    const { runId } = entry.summary;
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
        entry.unsubscribers.push(unsubscribe);
        return unsubscribe;
      },
      cancel(reason = 'cancelled by the caller') {
        if (entry.final) return;
        const execution = entry.execution;
        if (execution?.cancel) execution.cancel(reason);
        else if (execution) execution.controller.abort(reason);
        else entry.cancelled ??= reason;
      },
      resolve: (resolution) => continuation.resolve(runId, resolution),
    };
    entry.handle = handle;
    return handle;
  }

  function spawn(
    workflow: CompiledWorkflow | string,
    given: Record<string, unknown> = {},
    options: SpawnOptions = {},
  ): WorkflowHandle {
    checkOpen();
    const runId = options.runId ?? newRunId();
    checkNotRunning(runId);
    const entry = createEntry(runId, typeof workflow === 'string' ? workflow : workflow.name);
    const done = launch(entry, async () => {
      const compiled = await load(workflow);
      return { workflow: compiled, inputs: resolveInputs(compiled, given) };
    });
    return handleOf(entry, done);
  }

  const continuation = createRunContinuation({
    deps,
    clock,
    entries,
    load,
    checkOpen,
    checkNotRunning,
    createEntry,
    handleOf,
    launch,
  });

  return {
    spawn,
    resume: continuation.resume,
    resolve: continuation.resolve,
    resumable: continuation.resumable,
    list: () => [...entries.values()].map((entry) => ({ ...entry.summary })),
    async close() {
      const running = [...entries.values()].filter((entry) => entry.summary.status === 'running');
      for (const entry of running) entry.handle.cancel('the runtime is closing');
      // A resolved run's execution is not its handle's first `done`: wait for every execution, not only those.
      await Promise.all([...executing].map((done) => done.catch(() => undefined)));
    },
  };
}
