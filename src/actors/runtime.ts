// The runtime composes the parts: connector, breakers, cache, metrics and the tool-call machine; it runs calls and reports what happened.
import { assign, fromPromise } from 'xstate';
import { systemClock, systemRandom } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { policyFor } from '../config/policyFor.js';
import { isValidatedConfig, parseRuntimeConfig, type RuntimeConfig } from '../config/runtimeConfig.js';
import { createEventIdFactory } from '../events/eventIds.js';
import { createEventWriter } from '../events/eventWriter.js';
import { toolCallMachine } from '../machines/toolCall.js';
import { shortCircuited } from '../machines/toolCallUpdates.js';
import type { AttemptActorInput, ToolCallEmitted, ToolCallInput } from '../machines/toolCallTypes.js';
import type { Escalation } from '../policy/escalation.js';
import { ToolPolicyConfig } from '../policy/toolPolicy.js';
import { foldInto } from '../store/projections/projection.js';
import { toolMetricsProjection, type ProjectedToolMetrics } from '../store/projections/toolMetrics.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import { advisoryRaised, createAdvisoryTriggers, type TriggerHit } from './advisoryTriggers.js';
import { createAnnotationLookup } from './annotationLookup.js';
import { createAttemptLogic } from './attemptActor.js';
import { createBreakerRegistry, type BreakerRegistry } from './breakerRegistry.js';
import { restoreCachedResults } from './cacheFromLog.js';
import { silentLogger } from './logger.js';
import { createMcpConnector } from './mcpConnector.js';
import type { McpConnector } from './mcpTypes.js';
import { createResultCache, type ResultCache } from './resultCache.js';
import { createRunRecorder } from './runRecorder.js';
import { createRunSupervisor } from './runSupervisor.js';
import { createRuntimeListeners } from './runtimeListeners.js';
import { createToolCallLogger } from './toolCallLog.js';
import { planResumedCall } from './toolCallResume.js';
import { runToolCall, type ToolCallRun } from './toolCallRunner.js';
import { createToolTargets, splitRef } from './toolTargets.js';
import { createWorkflowHost } from './workflowHost.js';
import { createWorkflowServers } from './workflowServers.js';
import {
  BREAKER_RUN_ID,
  DEFAULT_KEEP_ENDED_RUNS,
  DEFAULT_MAX_RUNNING_WORKFLOWS,
  type CallOptions,
  type RecordedOutcome,
  type Runtime,
  type RuntimeEvent,
  type RuntimeOptions,
} from './runtimeTypes.js';

export { BREAKER_RUN_ID, DEFAULT_KEEP_ENDED_RUNS, DEFAULT_MAX_RUNNING_WORKFLOWS } from './runtimeTypes.js';
export type { CallOptions, RecordedOutcome, Runtime, RuntimeEvent, RuntimeOptions } from './runtimeTypes.js';

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
  const active = new Set<ToolCallRun>();
  const logEvent = createToolCallLogger(logger, config.log.redact);
  const store = options.store;
  // Without a store nothing is written: the envelopes only feed the live metrics, unvalidated (see `validate`).
  const eventWriter = createEventWriter({ clock, random, redact: config.log.redact, validate: store !== undefined });
  const newCallId = createEventIdFactory({ clock, random });
  /** Calls recorded in another run (a workflow's): that run and the step they belong to. */
  const callRuns = new Map<string, { runId: string; parentId: string | undefined }>();
  /** Per call in progress: the number of its last attempt whose start was recorded. */
  const attemptsStarted = new Map<string, number>();
  const listeners = createRuntimeListeners({ logger, redact: config.log.redact });
  const { publish, deliver, logEscalation } = listeners;
  const recorder = createRunRecorder({
    store,
    bus: options.bus,
    eventWriter,
    onEnvelope: (envelope) => foldInto(toolMetricsProjection, liveMetrics, envelope),
    standalone: new Set([BREAKER_RUN_ID]),
    deliver,
  });
  const { record, afterRecorded, durable, recorded } = recorder;
  const { targetNow, primaryTarget } = createToolTargets({
    config,
    annotations,
    servers: workflowServers.table,
    connectorKnowsServers: options.connector !== undefined,
  });
  let closed = false;

  const breakers: BreakerRegistry = createBreakerRegistry({
    clock,
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    settingsFor: (key) => {
      const { server, tool } = splitRef(key, '');
      return policyFor(config, server, tool, annotations.known(server)?.get(tool)).breaker;
    },
  });
  breakers.on((event) => {
    record(BREAKER_RUN_ID, event);
    publish(event as RuntimeEvent);
  });

  /** On the bus's escalation subjects and to the escalation listeners, once the run's events so far are durable. */
  function announce(runId: string, escalation: Escalation): void {
    afterRecorded(runId, () => {
      options.bus?.publishEscalation(escalation.level, escalation);
      listeners.escalate(escalation);
    });
  }

  /** Records a trigger crossed by the failed attempt of `callId`, in that call's run (see AdvisoryRaisedData). */
  function advise(callId: string, hit: TriggerHit, at: number): void {
    const { server, tool } = hit;
    const { fact, escalation } = advisoryRaised(
      hit,
      policyFor(config, server, tool, annotations.known(server)?.get(tool)),
      callId,
      at,
    );
    // A call inside a workflow records its advisory in the workflow's run, beside the attempt that caused it.
    const inRun = callRuns.get(callId);
    const runId = inRun?.runId ?? callId;
    record(runId, fact, inRun?.parentId);
    publish(fact);
    logEscalation(escalation);
    announce(runId, escalation);
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
    actions: {
      // Asked again within the same step: an open breaker's answer is the same, and now says when it half-opens.
      noteShortCircuit: assign(({ context }, params: { key: string; token: string }) => {
        const permit = breakers.tryAcquire(params.key, params.token);
        return shortCircuited(context, permit.allowed ? undefined : permit.retryInMs);
      }),
    },
  });

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
    const run = runToolCall(machine, input, {
      clock,
      onEmitted,
      ...(resumeFrom ? { resumeFrom } : {}),
      ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    });
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
    unrecordable: recorder.unrecordable,
    onUnrecordable: recorder.onUnrecordable,
    subscribeRun: recorder.subscribeRun,
    async readRun(runId) {
      if (!store) throw new RetraceError(ErrorCode.store, `cannot read run ${runId}: the runtime has no event store`);
      return store.read(runId);
    },
    continueRun: (runId, lastSeq) => eventWriter.resumeRun(runId, lastSeq),
    listRuns: async () => (store ? (await store.runs()).map((run) => run.runId) : []),
    recall: (events) => restoreCachedResults(cache, events),
    isClosed: () => closed,
    ...(options.connector ? {} : { attachServers: (workflow: CompiledWorkflow) => workflowServers.attach(workflow) }),
    ...(supervisor ? { onRunStarted: supervisor.started, onRunEnded: supervisor.ended } : {}),
    maxRunning: options.maxRunningWorkflows ?? DEFAULT_MAX_RUNNING_WORKFLOWS,
    keepEnded: options.keepEndedRuns ?? DEFAULT_KEEP_ENDED_RUNS,
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });

  return {
    callTool,
    listTools: (server) => connector.listTools(server),
    breakers: () => breakers.list(),
    // Copies: the folded states share their unchanged parts with each other, so a caller must not change them.
    metrics: () => [...liveMetrics.values()].map((metrics) => structuredClone(metrics)),
    on: listeners.on,
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
      await recorder.recordedAll();
      await connector.close();
    },
  } as Runtime;
}
