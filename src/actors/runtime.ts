// The runtime composes the parts: connector, breakers, cache, metrics and the tool-call machine; it runs calls and reports what happened.
import { fromPromise } from 'xstate';
import { systemClock, systemRandom, type Clock, type RandomSource } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { policyFor } from '../config/policyFor.js';
import {
  isValidatedConfig,
  parseRuntimeConfig,
  type RuntimeConfig,
  type RuntimeConfigInput,
} from '../config/runtimeConfig.js';
import { toolCallMachine } from '../machines/toolCall.js';
import type {
  AttemptActorInput,
  ToolCallEmitted,
  ToolCallInput,
  ToolCallOutcome,
  ToolTarget,
} from '../machines/toolCallTypes.js';
import { buildEscalation, EscalationTrigger, type Escalation } from '../policy/escalation.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import { ToolPolicyConfig } from '../policy/toolPolicy.js';
import {
  createBreakerRegistry,
  type BreakerEvent,
  type BreakerRegistry,
  type BreakerStatus,
} from './breakerRegistry.js';
import { silentLogger, type Logger } from './logger.js';
import { createMcpConnector } from './mcpConnector.js';
import { createWorkflowServers } from './workflowServers.js';
import type { McpConnector, ToolInfo } from './mcpTypes.js';
import { createResultCache, type ResultCache } from './resultCache.js';
import { createAdvisoryTriggers, type TriggerHit } from './advisoryTriggers.js';
import { createRedactor } from '../common/redact.js';
import { ANNOTATION_WAIT_MS, createAnnotationLookup } from './annotationLookup.js';
import { createEventIdFactory } from '../events/eventIds.js';
import { createEventWriter, type EmittedFact } from '../events/eventWriter.js';
import type { NatsBus } from '../events/natsBus.js';
import type { AdvisoryRaised } from '../events/advisoryEvents.js';
import type { RetraceEvent } from '../events/retraceEvent.js';
import type { EventEnvelope } from '../events/envelope.js';
import { planResumedCall } from './toolCallResume.js';
import type { EventStore } from '../store/eventStore.js';
import { foldInto } from '../store/projections/projection.js';
import { toolMetricsProjection, type ProjectedToolMetrics } from '../store/projections/toolMetrics.js';
import { createToolCallLogger } from './toolCallLog.js';
import { createAttemptLogic } from './attemptActor.js';
import { runToolCall, type ToolCallRun } from './toolCallRunner.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import {
  createWorkflowHost,
  type SpawnOptions,
  type WorkflowFinal,
  type WorkflowHandle,
  type WorkflowSummary,
} from './workflowHost.js';
import type { Resolution, ResumeOptions } from './workflowResume.js';
import { createRunSupervisor } from './runSupervisor.js';

export interface RuntimeOptions {
  /** Where every fact is appended (the file log by default in the CLI); without one, nothing is recorded. */
  store?: EventStore;
  /**
   * The data directory where the runs this runtime executes are registered (`runs/<runId>.owner`) and control
   * requests for them (`control/`, e.g. `retrace cancel`) are picked up. The CLI sets it whenever it records.
   */
  dataDir?: string;
  /** Where every recorded fact is also published live (core NATS), with escalations on their own subjects. */
  bus?: Pick<NatsBus, 'publish' | 'publishEscalation'>;
  /** A parsed config, or a plain object validated here. */
  config?: RuntimeConfig | RuntimeConfigInput;
  connector?: McpConnector;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  /**
   * How many workflow runs execute at once (1,000 by default; 0: no limit). Runs spawned beyond it wait their turn
   * in spawn order, their handles usable meanwhile: thousands spawned together stay within bounded memory.
   */
  maxRunningWorkflows?: number;
}

/** The default bound on workflow runs executing at once in one runtime. */
export const DEFAULT_MAX_RUNNING_WORKFLOWS = 1_000;

export interface CallOptions {
  /** Policy overrides for this call, in config form (`{ max_retries: 0 }`). */
  policy?: ToolPolicyConfig;
  /** Policy overrides already parsed (a workflow step's); used when `policy` is absent. */
  parsedPolicy?: ParsedToolPolicyConfig;
  /** Overrides for the fallback tools, by `server/tool` or `tool` (a workflow's `tools:`). */
  toolPolicies?: Readonly<Record<string, ParsedToolPolicyConfig>>;
  signal?: AbortSignal;
  callId?: string;
  /** Record the call in this run (a workflow's) instead of a run of its own; the outcome still waits until it is durable. */
  runId?: string;
  /** The actor the call belongs to (a workflow step's actor id). */
  parentId?: string;
  /** A resumed step attempt's recorded tool-call events: the call continues from them (see toolCallResume.ts). */
  resume?: readonly EventEnvelope[];
}

/** A call's outcome with the run it was recorded as (its runId is the call's id). */
export type RecordedOutcome = ToolCallOutcome & { runId: string };

/** Breaker transitions belong to no call: they are recorded in a run of their own. */
export const BREAKER_RUN_ID = 'breakers';

export type RuntimeEvent = ToolCallEmitted | (BreakerEvent & { type: `breaker.${string}` }) | AdvisoryRaised;

export interface Runtime {
  callTool(
    server: string,
    tool: string,
    args?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<RecordedOutcome>;
  listTools(server: string): Promise<ToolInfo[]>;
  breakers(): BreakerStatus[];
  /** Per tool: the tool-metrics projection folded over every fact this runtime recorded, as `retrace metrics` folds the log. */
  metrics(): ProjectedToolMetrics[];
  on(type: 'escalation', listener: (escalation: Escalation) => void): () => void;
  on(type: 'event', listener: (event: RuntimeEvent) => void): () => void;
  /** Starts a workflow (compiled, or a file to load) as a run; many run side by side. */
  spawn(workflow: CompiledWorkflow | string, inputs?: Record<string, unknown>, options?: SpawnOptions): WorkflowHandle;
  /**
   * Continues an unfinished run of the store from its events: completed steps are not run again (their outcomes come
   * from the log), state and computed are rebuilt from it. Rejects when the run is unknown, ended, waiting on an
   * escalation, running here, or its workflow changed (unless `force`).
   */
  resume(runId: string, options?: ResumeOptions): Promise<WorkflowHandle>;
  /** The store's workflow runs that are unfinished and not waiting on a person (`retrace resume --all`). */
  resumable(): Promise<string[]>;
  /** Answers the escalation a run waits on (`workflow.resolved`) and continues it in this runtime. */
  resolve(runId: string, resolution: Resolution, options?: ResumeOptions): Promise<WorkflowFinal>;
  /** The workflows this runtime is running or has run. */
  list(): WorkflowSummary[];
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  close(): Promise<void>;
}

function splitRef(ref: string, defaultServer: string): { server: string; tool: string } {
  const slash = ref.indexOf('/');
  return slash < 0 ? { server: defaultServer, tool: ref } : { server: ref.slice(0, slash), tool: ref.slice(slash + 1) };
}

export function createRuntime(options: RuntimeOptions = {}): Runtime {
  const config: RuntimeConfig = isValidatedConfig(options.config)
    ? options.config
    : parseRuntimeConfig(options.config ?? {});
  const clock = options.clock ?? systemClock;
  const random = options.random ?? systemRandom;
  const logger = options.logger ?? silentLogger;
  // Workflows' own servers join the config's while they run; a connector given by the caller knows its own servers.
  const workflowServers = createWorkflowServers(config.servers, (server) => {
    annotations.forget(server);
    void connector
      .disconnect?.(server)
      .catch((error: unknown) => logger.warn({ err: error, server }, 'disconnect failed'));
  });
  const connector: McpConnector = options.connector ?? createMcpConnector({ servers: workflowServers.table, clock });
  const cache: ResultCache = createResultCache({ maxEntries: config.cache.max_entries });
  /** The replay's reducer, folded over each envelope as it is made: live metrics are the log's metrics. */
  const liveMetrics = new Map<string, ProjectedToolMetrics>();
  const triggers = createAdvisoryTriggers({
    repeatedFailures: {
      count: config.escalation.repeated_failures.count,
      windowMs: config.escalation.repeated_failures.window,
    },
    errorRate: {
      threshold: config.escalation.error_rate.threshold,
      minimumCalls: config.escalation.error_rate.minimum_calls,
      windowMs: config.escalation.error_rate.window,
    },
  });
  const annotations = createAnnotationLookup(connector, clock, logger);
  const escalationListeners = new Set<(escalation: Escalation) => void>();
  const eventListeners = new Set<(event: RuntimeEvent) => void>();
  const active = new Set<ToolCallRun>();
  const logEvent = createToolCallLogger(logger, config.log.redact);
  const store = options.store;
  // Without a store nothing is written: the envelopes only feed the live metrics, unvalidated (see `validate`).
  const eventWriter = createEventWriter({ clock, random, redact: config.log.redact, validate: store !== undefined });
  const newCallId = createEventIdFactory({ clock, random });
  /** Per run: the last append (appends resolve in order) and the first failure to record. */
  const recording = new Map<string, { last: Promise<void>; error?: unknown }>();
  /** Calls recorded in another run (a workflow's): that run and the step they belong to. */
  const callRuns = new Map<string, { runId: string; parentId: string | undefined }>();
  /** Per call in progress: the number of its last attempt whose start was recorded. */
  const attemptsStarted = new Map<string, number>();
  /** Per run: who wants its events once they are durable (a workflow handle's subscribers). */
  const runListeners = new Map<string, Set<(event: RetraceEvent) => void>>();
  const redact = createRedactor(config.log.redact);
  let closed = false;

  const breakers: BreakerRegistry = createBreakerRegistry({
    clock,
    settingsFor: (key) => {
      const { server, tool } = splitRef(key, '');
      return policyFor(config, server, tool, annotations.known(server)?.get(tool)).breaker;
    },
  });
  breakers.on((event) => {
    record(BREAKER_RUN_ID, event);
    publish(event as RuntimeEvent);
  });

  /** Listeners get events with secrets redacted, and a listener that throws harms nobody else. */
  function publish(event: RuntimeEvent): void {
    if (eventListeners.size === 0) return;
    const shown = redactEvent(event);
    for (const listener of eventListeners) deliver(listener, shown);
  }

  /** Redaction paths are relative to the event's data (`args.token`, `result.structuredContent.secret`), as in the log. */
  function redactEvent(event: RuntimeEvent): RuntimeEvent {
    if (event.type === 'toolcall.requested') {
      const shown = redact({ args: event.args }) as Pick<typeof event, 'args'>;
      return { ...event, args: shown.args };
    }
    if (event.type === 'toolcall.succeeded') {
      const shown = redact({ args: event.args, result: event.result }) as Pick<typeof event, 'args' | 'result'>;
      return { ...event, args: shown.args, result: shown.result };
    }
    return event;
  }

  function deliver<T>(listener: (value: T) => void, value: T): void {
    try {
      listener(value);
    } catch (error) {
      logger.error({ err: error }, 'a runtime listener threw; the runtime carries on');
    }
  }

  /** Logs an escalation at its level; it is published once its event is durable (see `announce`). */
  function logEscalation(escalation: Escalation): void {
    const log = { escalation };
    const message = `${escalation.level.toUpperCase()} ESCALATION: ${escalation.server}/${escalation.tool}: ${escalation.message}`;
    if (escalation.level === 'emergency') logger.fatal(log, message);
    else if (escalation.level === 'critical') logger.error(log, message);
    else if (escalation.level === 'warning') logger.warn(log, message);
    else logger.info(log, message);
  }

  /** On the bus's escalation subjects and to the escalation listeners, once the run's events so far are durable. */
  function announce(runId: string, escalation: Escalation): void {
    afterRecorded(runId, () => {
      options.bus?.publishEscalation(escalation.level, escalation);
      for (const listener of escalationListeners) deliver(listener, escalation);
    });
  }

  /** Records a trigger crossed by the failed attempt of `callId`, in that call's run (see AdvisoryRaisedData). */
  function advise(callId: string, hit: TriggerHit, at: number): void {
    const { server, tool } = hit;
    const minutes = Math.round(hit.windowMs / 60_000);
    const message =
      hit.trigger === EscalationTrigger.repeatedFailures
        ? `${server}/${tool} failed ${hit.failures} times in ${minutes} minute${minutes === 1 ? '' : 's'}`
        : `${server}/${tool} error rate ${((hit.failures / hit.calls) * 100).toFixed(0)}% over ${hit.calls} calls`;
    const escalation = buildEscalation(
      policyFor(config, server, tool, annotations.known(server)?.get(tool)),
      hit.trigger,
      { server, tool, at, callId, message },
    );
    const fact: AdvisoryRaised = {
      type: 'toolcall.advisory.raised',
      at,
      callId,
      server,
      tool,
      escalation,
      windowMs: hit.windowMs,
      failures: hit.failures,
      calls: hit.calls,
      threshold: hit.threshold,
    };
    // A call inside a workflow records its advisory in the workflow's run, beside the attempt that caused it.
    const inRun = callRuns.get(callId);
    const runId = inRun?.runId ?? callId;
    record(runId, fact, inRun?.parentId);
    publish(fact);
    logEscalation(escalation);
    announce(runId, escalation);
  }

  /**
   * Makes the fact's envelope, folds it into the live metrics and appends it to the store (when there is one); the
   * call's outcome waits for its run's appends (nothing reported before it is durable). Each append of a run is
   * published on the bus once it and those before it are durable.
   */
  function record(runId: string, fact: EmittedFact, parentId?: string): RetraceEvent | undefined {
    let entry = recording.get(runId);
    if (!entry) recording.set(runId, (entry = { last: Promise.resolve() }));
    const current = entry;
    let envelope: RetraceEvent;
    try {
      envelope = eventWriter.toEnvelope(runId, fact, parentId);
    } catch (error) {
      current.error ??= error;
      return undefined;
    }
    foldInto(toolMetricsProjection, liveMetrics, envelope);
    if (store) {
      let appended: Promise<void>;
      try {
        appended = store.append([envelope]);
      } catch (error) {
        appended = Promise.reject(error as Error);
      }
      current.last = Promise.all([current.last, appended]).then(
        () => {
          options.bus?.publish(envelope);
          notify(runId, envelope);
        },
        (error: unknown) => {
          current.error ??= error;
        },
      );
    } else {
      notify(runId, envelope);
    }
    return envelope;
  }

  /** A workflow handle's subscribers get the run's events as recorded (redacted), once durable. */
  function notify(runId: string, envelope: RetraceEvent): void {
    const listeners = runListeners.get(runId);
    if (!listeners) return;
    for (const listener of listeners) deliver(listener, envelope);
  }

  /** Runs `action` once the run's events so far are durable (at once without a store), and not if one failed to be. */
  function afterRecorded(runId: string, action: () => void): void {
    const current = recording.get(runId);
    if (!store || !current) {
      action();
      return;
    }
    current.last = current.last.then(() => {
      if (current.error === undefined) action();
    });
  }

  /** Waits until what `runId` recorded so far is durable, without ending the run (a workflow's tool call). */
  async function durable(runId: string): Promise<void> {
    const entry = recording.get(runId);
    if (!entry) return;
    await entry.last;
    if (entry.error !== undefined) throw recordingError(runId, entry.error);
  }

  function recordingError(runId: string, error: unknown): RetraceError {
    return new RetraceError(
      ErrorCode.store,
      `run ${runId} could not be recorded: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }

  async function recorded(runId: string): Promise<void> {
    const entry = recording.get(runId);
    if (!entry) return;
    await entry.last;
    recording.delete(runId);
    eventWriter.forgetRun(runId);
    if (entry.error !== undefined) throw recordingError(runId, entry.error);
  }

  /** Where the machine's facts go: the log (and the live metrics), logs, listeners, breaker, cache, triggers. */
  function onEmitted(event: ToolCallEmitted): void {
    const inRun = callRuns.get(event.callId);
    const envelope = record(inRun?.runId ?? event.callId, event, inRun?.parentId);
    logEvent(event);
    publish(event);
    const key = `${event.server}/${event.tool}`;
    switch (event.type) {
      case 'toolcall.attempt.started':
        attemptsStarted.set(event.callId, event.n);
        break;
      case 'toolcall.attempt.failed': {
        const { failure } = event;
        if (failure.kind !== 'circuit_open') {
          const health = failure.class === 'permanent' ? 'ignored' : 'failure';
          breakers.record(key, event.probeToken, failure.kind === 'cancelled' ? 'ignored' : health, clock.now());
        }
        break;
      }
      case 'toolcall.succeeded':
        if (event.n !== undefined && event.probeToken !== undefined) {
          breakers.record(key, event.probeToken, 'success', clock.now());
        }
        if (event.cacheable && event.result) cache.set(event.server, event.tool, event.args, event.result, event.at);
        break;
      case 'toolcall.failed':
        // A call cancelled mid-attempt never reports the attempt's outcome: free its half-open probe slot.
        if (event.error?.kind === 'cancelled') breakers.record(key, event.probeToken, 'ignored', clock.now());
        break;
      case 'toolcall.escalated':
        logEscalation(event.escalation);
        announce(event.callId, event.escalation);
        break;
      default:
        break;
    }
    if (envelope) for (const hit of triggers.observe(envelope)) advise(event.callId, hit, event.at);
  }

  /**
   * Resolves once the attempt's `toolcall.attempt.started` is durable. The machine emits it on entering `calling`,
   * but delivers a macrostep's emitted facts after starting its invoked actors (the first attempt is in the initial
   * macrostep), so it is looked for a microtask later; an attempt whose start is still not recorded then is not sent.
   */
  async function attemptStartDurable(attempt: AttemptActorInput): Promise<void> {
    await Promise.resolve();
    if (attemptsStarted.get(attempt.callId) !== attempt.n) {
      throw new Error(`attempt ${attempt.n} of call ${attempt.callId} was not recorded before its request`);
    }
    await durable(callRuns.get(attempt.callId)?.runId ?? attempt.callId);
  }

  const machine = toolCallMachine.provide({
    actors: {
      // A non-idempotent attempt is sent once its start is durable in its run (a workflow's, or the call's own): the
      // same wait as a non-idempotent shell command's (`durable`).
      attempt: createAttemptLogic((request) => connector.callTool(request), clock, {
        beforeNonIdempotent: attemptStartDurable,
      }),
      readCache: fromPromise(({ input }) => Promise.resolve(cache.get(input.server, input.tool, input.args))),
    },
    guards: {
      breakerRefuses: (_args, params) => !breakers.tryAcquire(params.key, params.token).allowed,
    },
  });

  function checkServer(server: string): void {
    if (!Object.hasOwn(workflowServers.table, server) && !options.connector) {
      throw new RetraceError(
        ErrorCode.unknownServer,
        `unknown server "${server}" (configured: ${Object.keys(workflowServers.table).join(', ') || 'none'})`,
      );
    }
  }

  /** A target on what is known now: fallbacks are resolved when the call starts, without waiting for lookups. */
  function targetNow(
    ref: { server: string; tool: string },
    policies?: Readonly<Record<string, ParsedToolPolicyConfig>>,
  ): ToolTarget {
    checkServer(ref.server);
    const known = annotations.known(ref.server);
    if (!known) void annotations.start(ref.server);
    const overrides = policies?.[`${ref.server}/${ref.tool}`] ?? policies?.[ref.tool];
    return { ...ref, policy: policyFor(config, ref.server, ref.tool, known?.get(ref.tool), overrides) };
  }

  async function primaryTarget(
    ref: { server: string; tool: string },
    overrides: ParsedToolPolicyConfig | undefined,
    signal: AbortSignal | undefined,
  ): Promise<ToolTarget> {
    checkServer(ref.server);
    const configured = policyFor(config, ref.server, ref.tool, undefined, overrides);
    const byName = await annotations.wait(ref.server, Math.min(configured.timeoutMs, ANNOTATION_WAIT_MS), signal);
    const toolAnnotations = byName?.get(ref.tool);
    return {
      ...ref,
      policy: toolAnnotations ? policyFor(config, ref.server, ref.tool, toolAnnotations, overrides) : configured,
    };
  }

  async function callTool(
    server: string,
    tool: string,
    args: Record<string, unknown> = {},
    callOptions: CallOptions = {},
  ): Promise<RecordedOutcome> {
    if (closed) throw new RetraceError(ErrorCode.closed, 'the runtime is closed');
    const overrides =
      callOptions.policy === undefined ? callOptions.parsedPolicy : ToolPolicyConfig.parse(callOptions.policy);
    const target = await primaryTarget({ server, tool }, overrides, callOptions.signal);
    const fallbacks = target.policy.fallbacks.map((ref) =>
      ref === null ? null : targetNow(splitRef(ref, server), callOptions.toolPolicies),
    );
    const resumed = callOptions.resume?.at(-1);
    const input: ToolCallInput = {
      callId: resumed?.actorId ?? callOptions.callId ?? newCallId(),
      target,
      fallbacks,
      args,
      // A resumed call's overall deadline counts from the resume (a pending backoff keeps its own deadline).
      startedAt: clock.now(),
      seed: random(),
    };
    const sync = target.policy.syncAlternative;
    if (sync) {
      const syncTarget = targetNow(splitRef(sync.tool, server), callOptions.toolPolicies);
      input.syncAlternative = {
        ...syncTarget,
        policy: { ...syncTarget.policy, timeoutMs: sync.deadlineMs, deadlineMs: sync.deadlineMs },
      };
    }
    if (callOptions.runId !== undefined) {
      callRuns.set(input.callId, { runId: callOptions.runId, parentId: callOptions.parentId });
    }
    let resumeFrom;
    if (callOptions.resume && resumed) {
      const callEvents = callOptions.resume.filter((event) => event.actorId === resumed.actorId);
      const plan = planResumedCall(callEvents, input, clock.now());
      if (plan.kind !== 'continue') {
        try {
          if (plan.kind === 'unsafe') {
            const { server: planServer, tool: planTool } = plan.escalation;
            onEmitted({
              type: 'toolcall.escalated',
              callId: input.callId,
              server: planServer,
              tool: planTool,
              at: clock.now(),
              escalation: plan.escalation,
            });
          }
          if (callOptions.runId !== undefined) await durable(callOptions.runId);
          return { ...plan.outcome, runId: callOptions.runId ?? input.callId };
        } finally {
          callRuns.delete(input.callId);
          attemptsStarted.delete(input.callId);
        }
      }
      resumeFrom = plan.context;
    }
    const run = runToolCall(machine, input, { clock, onEmitted, ...(resumeFrom ? { resumeFrom } : {}) });
    active.add(run);
    const onAbort = () => run.cancel('cancelled by the caller');
    callOptions.signal?.addEventListener('abort', onAbort, { once: true });
    if (callOptions.signal?.aborted) onAbort();
    try {
      const outcome = await run.done;
      if (callOptions.runId === undefined) await recorded(input.callId);
      else await durable(callOptions.runId);
      return { ...outcome, runId: callOptions.runId ?? input.callId };
    } finally {
      callOptions.signal?.removeEventListener('abort', onAbort);
      active.delete(run);
      callRuns.delete(input.callId);
      attemptsStarted.delete(input.callId);
    }
  }

  const supervisor =
    options.dataDir === undefined ? undefined : createRunSupervisor({ dataDir: options.dataDir, clock, logger });
  const workflows = createWorkflowHost({
    clock,
    random,
    logger,
    config,
    callTool,
    record: (runId, fact) => record(runId, fact),
    finishRun: recorded,
    durable,
    subscribeRun(runId, listener) {
      let listeners = runListeners.get(runId);
      if (!listeners) runListeners.set(runId, (listeners = new Set()));
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && runListeners.get(runId) === listeners) runListeners.delete(runId);
      };
    },
    async readRun(runId) {
      if (!store) throw new RetraceError(ErrorCode.store, `cannot read run ${runId}: the runtime has no event store`);
      return store.read(runId);
    },
    continueRun: (runId, lastSeq) => eventWriter.resumeRun(runId, lastSeq),
    listRuns: async () => (store ? (await store.runs()).map((run) => run.runId) : []),
    isClosed: () => closed,
    ...(options.connector ? {} : { attachServers: (workflow: CompiledWorkflow) => workflowServers.attach(workflow) }),
    ...(supervisor ? { onRunStarted: supervisor.started, onRunEnded: supervisor.ended } : {}),
    maxRunning: options.maxRunningWorkflows ?? DEFAULT_MAX_RUNNING_WORKFLOWS,
  });

  return {
    callTool,
    listTools: (server) => connector.listTools(server),
    breakers: () => breakers.list(),
    // Copies: the folded states share their unchanged parts with each other, so a caller must not change them.
    metrics: () => [...liveMetrics.values()].map((metrics) => structuredClone(metrics)),
    on(type: 'escalation' | 'event', listener: ((escalation: Escalation) => void) | ((event: RuntimeEvent) => void)) {
      const set = (type === 'escalation' ? escalationListeners : eventListeners) as Set<typeof listener>;
      set.add(listener);
      return () => void set.delete(listener);
    },
    spawn: (workflow, inputs, spawnOptions) => workflows.spawn(workflow, inputs, spawnOptions),
    resume: (runId, resumeOptions) => workflows.resume(runId, resumeOptions),
    resolve: (runId, resolution, resumeOptions) => workflows.resolve(runId, resolution, resumeOptions),
    resumable: () => workflows.resumable(),
    list: () => workflows.list(),
    config,
    clock,
    async close() {
      if (closed) return;
      // Running workflows are cancelled first: their cleanup steps may still call tools.
      await workflows.close();
      await supervisor?.close();
      closed = true;
      for (const handle of active) handle.cancel('the runtime is closing');
      breakers.stop();
      await Promise.all([...recording.keys()].map((runId) => recorded(runId).catch(() => undefined)));
      await connector.close();
    },
  } as Runtime;
}
