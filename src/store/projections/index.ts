// The projections' public surface: pure reducers for run state, tool metrics, timelines, workflow timelines and metrics, resumption.
export { foldAll, foldInto, type Projection, type Reducer } from './projection.js';
export {
  splitToolKey,
  toolKey,
  type AdvisoryView,
  type EscalationView,
  type FailureView,
  type Route,
  type ToolRef,
} from './eventData.js';
export {
  initialRunState,
  reduceRunState,
  runStateProjection,
  type AttemptView,
  type PendingBackoff,
  type RunOutcome,
  type RunState,
  type RunStatus,
} from './runState.js';
export {
  breakerTimeOpenMs,
  initialToolMetrics,
  reduceToolMetrics,
  reportToolMetrics,
  toolMetricsProjection,
  type BreakerState,
  type BreakerView,
  type ProjectedToolMetrics,
  type ToolMetricsReport,
  type AttemptInFlight,
} from './toolMetrics.js';
export {
  listAttemptsInFlight,
  noAttemptsInFlight,
  startedAtOf,
  withAttempt,
  withoutAttempt,
  type InFlightAttempts,
} from './inFlightAttempts.js';
export {
  emptyHistogram,
  percentile,
  recordLatency,
  summarizeLatency,
  type LatencyHistogram,
  type LatencySummary,
} from './latencyHistogram.js';
export {
  initialTimeline,
  reduceTimeline,
  timelineProjection,
  type AdvisorySpan,
  type AttemptSpan,
  type BackoffSpan,
  type CacheSpan,
  type EscalationSpan,
  type FallbackSpan,
  type Timeline,
  type TimelineOutcome,
  type TimelineSpan,
} from './timeline.js';
export {
  initialResumeState,
  reduceResumeState,
  remainingBackoffMs,
  resumePointOf,
  resumeStateProjection,
  resumeToolCall,
  type InFlightAttempt,
  type ResumePoint,
  type ScheduledBackoff,
  type ToolCallResumeState,
} from './resumption.js';
export { reduceWorkflowTimeline, workflowTimelineProjection } from './workflowTimeline.js';
export {
  initialWorkflowTimeline,
  type BreakerSpan,
  type ComputedSpan,
  type StateChangeSpan,
  type StepAttemptSpan,
  type StepBackoffSpan,
  type StepFallbackSpan,
  type StepSpan,
  type StepSpanStatus,
  type SubWorkflowSpan,
  type WarningSpan,
  type WorkflowFinal,
  type WorkflowTimeline,
} from './workflowSpans.js';
export {
  groupWorkflowMetrics,
  initialWorkflowRunMetrics,
  reduceWorkflowRunMetrics,
  reportWorkflowMetrics,
  workflowRunMetricsProjection,
  type StepMetricsReport,
  type StepStats,
  type WorkflowMetricsGroup,
  type WorkflowMetricsReport,
  type WorkflowRunMetrics,
} from './workflowMetrics.js';
export type { WorkflowErrorView, WorkflowRunStatus } from './workflowData.js';
export {
  initialWorkflowRun,
  reduceWorkflowRun,
  statusWithOwner,
  workflowRunFinal,
  workflowRunProjection,
  type WorkflowRunFinal,
  type ObservedRunStatus,
  type WorkflowRunView,
} from './workflowRun.js';
