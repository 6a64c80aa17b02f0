// The events' public surface: the envelope, every event type, reading and writing them.
export { CURRENT_EVENT_VERSION, EventEnvelope } from './envelope.js';
export {
  AttemptFailedData,
  AttemptStartedData,
  BackoffScheduledData,
  CacheHitData,
  CacheMissData,
  EscalationRecord,
  FailureSummary,
  FallbackStartedData,
  ToolCallEscalatedData,
  ToolCallFailedData,
  ToolCallRequestedData,
  ToolCallSucceededData,
  ToolCallWarningData,
  ToolRef,
  toolCallDataSchemas,
} from './toolCallEvents.js';
export type { ToolCallEmittedData } from './toolCallEvents.js';
export { AdvisoryRaisedData, advisoryDataSchemas } from './advisoryEvents.js';
export type { AdvisoryRaised } from './advisoryEvents.js';
export { BreakerClosedData, BreakerHalfOpenedData, BreakerOpenedData, breakerDataSchemas } from './breakerEvents.js';
export type { BreakerEmittedData } from './breakerEvents.js';
export {
  ComputedEvaluatedData,
  StateUpdatedData,
  StepCancelledData,
  StepFailedData,
  StepFallbackData,
  StepRetryingData,
  StepSkippedData,
  StepStartedData,
  StepSucceededData,
  WorkflowCancelledData,
  WorkflowErrorData,
  WorkflowEscalatedData,
  WorkflowFailedData,
  WorkflowStartedData,
  WorkflowSucceededData,
  WorkflowWarningData,
  workflowDataSchemas,
} from './workflowEvents.js';
export type { WorkflowEmittedData } from './workflowEvents.js';
export { RecordedResult, TRUNCATION_PREVIEW_CHARS, TruncatedValue, isTruncatedValue } from './recordedValue.js';
export { RetraceEvent, eventDataSchemas, isRetraceEventType, retraceEventTypes } from './retraceEvent.js';
export type { EventOfType, RetraceEventType } from './retraceEvent.js';
export { createEventParser, eventUpgrades, parseEvent } from './parseEvent.js';
export type { EventParserOptions, EventUpgrade, EventUpgrades, RawEvent } from './parseEvent.js';
export { createEventIdFactory, eventIdTime } from './eventIds.js';
export type { EventIdFactory, EventIdOptions } from './eventIds.js';
export { DEFAULT_MAX_RESULT_BYTES, createEventWriter } from './eventWriter.js';
export type { EmittedFact, EventWriter, EventWriterOptions } from './eventWriter.js';
