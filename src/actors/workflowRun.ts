// What a workflow run looks like from outside: the handle spawn and resume return, its snapshot, its final, its summary.
import type { RetraceEvent } from '../events/retraceEvent.js';
import type { StepError, WorkflowStatus } from '../machines/workflowTypes.js';
import type { Resolution } from './workflowResume.js';

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
  /**
   * Answers the escalation the run waits on (`done` settled with status `escalated`): records `workflow.resolved`
   * and continues the run here; resolves with its new final. Rejects when the run is not waiting.
   */
  resolve(resolution: Resolution): Promise<WorkflowFinal>;
}

export interface WorkflowSummary {
  runId: string;
  name: string;
  status: WorkflowStatus;
  startedAt: number;
}
