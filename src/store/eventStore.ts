// One interface for every event store: the embedded file log (default) and NATS JetStream.
import type { EventEnvelope } from '../events/envelope.js';

export type Durability = 'always' | 'batch' | 'none';

/** Where an event sits in a store's total order (file log: segment + offset; JetStream: stream sequence). */
export type StorePosition = string;

export interface StoredEvent {
  position: StorePosition;
  event: EventEnvelope;
}

export interface RunSummary {
  runId: string;
  /** `running` until a terminal event (`toolcall.succeeded | failed | escalated`, later `workflow.*`) is stored. */
  status: 'running' | 'succeeded' | 'failed' | 'escalated' | 'cancelled';
  events: number;
  lastSeq: number;
  firstTs: number;
  lastTs: number;
  lastType: string;
}

export interface EventStore {
  /** Appends in order; resolves once the events are durable as the durability setting says. */
  append(events: readonly EventEnvelope[]): Promise<void>;
  /** One run's events, in seq order, from `fromSeq` (inclusive). Reads only that run. */
  read(runId: string, fromSeq?: number): Promise<EventEnvelope[]>;
  /** Every event in store order, after `fromPosition` (exclusive) when given. */
  readAll(fromPosition?: StorePosition): AsyncIterable<StoredEvent>;
  /** The same as `readAll`, in batches of events decoded together (for bulk readers such as replay); optional. */
  readAllBatches?(fromPosition?: StorePosition): AsyncIterable<readonly StoredEvent[]>;
  runs(): Promise<RunSummary[]>;
  /**
   * The position of the newest event stored now (undefined while the store is empty): `readAll` after it gives only
   * what is appended later. Optional: a follower without it reads the store through once to find its end.
   */
  endPosition?(): Promise<StorePosition | undefined>;
  /** Live events as they are appended (optionally one run's), until the signal aborts. */
  tail(options?: { runId?: string; signal?: AbortSignal }): AsyncIterable<EventEnvelope>;
  close(): Promise<void>;
}

/**
 * The status a run has after an event of this type (undefined: the event says nothing of it). A workflow's step
 * events say it runs on: a tool call or sub-workflow ending inside a workflow run does not end the run.
 */
export function terminalStatus(type: string): RunSummary['status'] | undefined {
  if (type.startsWith('workflow.step.') || type === 'workflow.resumed' || type === 'workflow.resolved')
    return 'running';
  switch (type) {
    case 'workflow.succeeded':
      return 'succeeded';
    case 'workflow.failed':
      return 'failed';
    case 'workflow.escalated':
      return 'escalated';
    case 'workflow.cancelled':
      return 'cancelled';
    case 'toolcall.succeeded':
      return 'succeeded';
    case 'toolcall.failed':
      return 'failed';
    case 'toolcall.escalated':
      return 'escalated';
    default:
      return undefined;
  }
}
