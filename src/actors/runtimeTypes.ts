// The runtime's API: what createRuntime takes, what a call takes and returns, what the runtime offers.
import type { InspectObserver } from './actorInspection.js';
import type { Clock, RandomSource } from '../common/clock.js';
import type { RuntimeConfig, RuntimeConfigInput } from '../config/runtimeConfig.js';
import type { AdvisoryRaised } from '../events/advisoryEvents.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { NatsBus } from '../events/natsBus.js';
import type { ToolCallEmitted, ToolCallOutcome } from '../machines/toolCallTypes.js';
import type { Escalation } from '../policy/escalation.js';
import type { ParsedToolPolicyConfig, ToolPolicyConfig } from '../policy/toolPolicy.js';
import type { EventStore } from '../store/eventStore.js';
import type { ProjectedToolMetrics } from '../store/projections/toolMetrics.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import type { BreakerEvent, BreakerStatus } from './breakerRegistry.js';
import type { Logger } from './logger.js';
import type { McpConnector, ToolInfo } from './mcpTypes.js';
import type { SpawnOptions, WorkflowFinal, WorkflowHandle, WorkflowSummary } from './workflowRun.js';
import type { Resolution, ResumeOptions } from './workflowResume.js';

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
   * How many workflow runs execute at once (500 by default; 0: no limit). Runs spawned beyond it wait their turn
   * in spawn order, their handles usable meanwhile: thousands spawned together stay within bounded memory.
   */
  maxRunningWorkflows?: number;
  /**
   * How many ended runs `list()` keeps (1,000 by default), the oldest let go first: a runtime that runs for months
   * holds its running and waiting runs, not every run it ever ran. The store lists them all (`store.runs()`).
   */
  keepEndedRuns?: number;
  /**
   * XState's inspection observer, given to every actor the runtime creates (workflows, steps, tool calls,
   * breakers): what `retrace run --inspect` attaches the Stately inspector with. Absent, nothing is inspected.
   */
  inspect?: InspectObserver;
}

/** The default bound on workflow runs executing at once in one runtime. */
export const DEFAULT_MAX_RUNNING_WORKFLOWS = 500;
/** How many ended runs a runtime's `list()` keeps by default. */
export const DEFAULT_KEEP_ENDED_RUNS = 1_000;

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
  /** The workflows this runtime is running or waiting on a person, and the last `keepEndedRuns` that ended. */
  list(): WorkflowSummary[];
  readonly config: RuntimeConfig;
  readonly clock: Clock;
  close(): Promise<void>;
}
