// retrace's library API: the runtime, its config, the machines and the policy vocabulary.
export { createRuntime } from './actors/runtime.js';
export type { CallOptions, Runtime, RuntimeEvent, RuntimeOptions } from './actors/runtime.js';
export { createMcpConnector } from './actors/mcpConnector.js';
export type { AttemptOutcome, AttemptRequest, McpConnector, ToolInfo } from './actors/mcpTypes.js';
export { ServerConfig, StdioServerConfig, HttpServerConfig } from './actors/serverConfig.js';
export { createBreakerRegistry } from './actors/breakerRegistry.js';
export type { BreakerRegistry, BreakerStatus, BreakerState } from './actors/breakerRegistry.js';
export type { ProjectedToolMetrics } from './store/projections/toolMetrics.js';
export { createLogger } from './actors/logger.js';

export { loadConfig, parseConfigText, policyFor } from './config/index.js';
export { RuntimeConfig, parseRuntimeConfig } from './config/runtimeConfig.js';

export { toolCallMachine } from './machines/toolCall.js';
export { circuitBreakerMachine } from './machines/circuitBreaker.js';
export type {
  ToolCallOutcome,
  ToolCallEmitted,
  AttemptRecord,
  OutcomeStatus,
  ToolTarget,
} from './machines/toolCallTypes.js';

export { classifyFailure } from './policy/classify.js';
export { detectPartial } from './policy/detectPartial.js';
export { defaultRules } from './policy/defaultRules.js';
export { ClassifiedFailure, FailureClass, FailureKind, RawFailure } from './policy/failure.js';
export { ClassificationRule } from './policy/classificationRule.js';
export { ToolPolicyConfig, defaultToolPolicy, resolvePolicy } from './policy/toolPolicy.js';
export type { ToolPolicy, BackoffSettings, BreakerSettings } from './policy/toolPolicy.js';
export { backoffDelayMs, exponentialDelayMs } from './policy/backoff.js';
export { EscalationLevel } from './policy/escalationLevel.js';
export type { Escalation, EscalationTrigger } from './policy/escalation.js';

export { RetraceError, isRetraceError } from './common/errors.js';
export type { Clock, RandomSource } from './common/clock.js';
export { createTestClock } from './testing/testClock.js';
export type { TestClock } from './testing/testClock.js';

export { createFileLog } from './store/fileLog.js';
export type { FileLog, FileLogOptions } from './store/fileLog.js';
export { openFileLogView } from './store/fileLogView.js';
export type { FileLogView, FileLogViewOptions } from './store/fileLogView.js';
export { watchStore } from './store/storeWatch.js';
export type { StoreWatch, StoreWatchHealth, StoreWatchOptions } from './store/storeWatch.js';
export { createJetStreamStore, DEFAULT_EVENT_STREAM } from './store/jetStreamStore.js';
export type { JetStreamStore, JetStreamStoreOptions } from './store/jetStreamStore.js';
export type { Durability, EventStore, RunSummary, StoredEvent, StorePosition } from './store/eventStore.js';
export { createReplayer, formatTimeline, replay, replayAsync, replayStore } from './store/replay.js';
export type { ReplayOptions, ReplayResult, TimelineFormat } from './store/replay.js';
export { formatWorkflowTimeline } from './store/workflowTimelineFormat.js';
export {
  reduceWorkflowRunMetrics,
  reduceWorkflowTimeline,
  reportWorkflowMetrics,
  workflowRunMetricsProjection,
  workflowTimelineProjection,
} from './store/projections/index.js';
export type {
  StepSpan,
  WorkflowMetricsReport,
  WorkflowRunMetrics,
  WorkflowTimeline,
} from './store/projections/index.js';
export { createNatsBus } from './events/natsBus.js';
export type { NatsBus, NatsBusOptions } from './events/natsBus.js';
export { parseEvent } from './events/parseEvent.js';
export { createObservabilityServer } from './server/http/observabilityServer.js';
export type {
  ObservabilityServer,
  ObservabilityServerOptions,
  RouteHandler,
} from './server/http/observabilityServer.js';
export type { Check, Readiness } from './server/http/readiness.js';
export { createMetricsRegistry } from './server/metrics/index.js';
export type { MetricsRegistry, ProjectedFacts } from './server/metrics/index.js';
export type { EventEnvelope } from './events/envelope.js';

export {
  checkWorkflowFile,
  explainWorkflow,
  loadWorkflow,
  parseWorkflowText,
  resolveInputs,
} from './workflow/index.js';
export type { CompiledWorkflow, ExecutionPlan, WorkflowProblem } from './workflow/index.js';
export type { WorkflowFinal, WorkflowHandle, WorkflowSummary } from './actors/workflowHost.js';
export type { Resolution, ResumeOptions } from './actors/workflowResume.js';

export {
  ChaosEngine,
  ChaosPlan,
  loadChaosPlan,
  parseChaosPlan,
  serveChaosSession,
  startChaosHttpProxy,
} from './chaos/index.js';
export type { ChaosHttpProxy, ChaosPlanInput, ChaosReportData, ChaosSession } from './chaos/index.js';
