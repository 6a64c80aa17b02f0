// A run's recorded events as a resumed execution reads them: each step occurrence's outcome or progress, and the
// state and computed fields as they were at any point of the log.
import type { EventEnvelope } from '../events/envelope.js';
import type { StepError, StepOutcome, StepStatus } from '../machines/workflowTypes.js';
import { StepErrorType } from '../machines/workflowTypes.js';
import { applyStateOperation } from '../workflow/stateUpdate.js';

/**
 * One execution of a step actor, as the log has it. Occurrences of an actor id are its events cut after each
 * terminal event (succeeded, skipped, fallback, failed, cancelled): the nth time the resumed run starts that actor
 * id, it reads the nth occurrence.
 */
export interface StepOccurrence {
  actorId: string;
  /** Seq of its first event. */
  firstSeq: number;
  /**
   * Events of its current attempt's children come after this seq: the end of its previous attempt (its
   * `step.retrying`) or of the actor's previous occurrence. (A child's first event may come before the parent's
   * `step.started`: the parent's emitted facts are delivered after the work it invoked began.)
   */
  since: number;
  /** The recorded outcome: the step is not run again. */
  outcome?: StepOutcome;
  /** Seq of the terminal event (or of the resolution that gave the outcome). */
  endSeq?: number;
  /** The last attempt that started, its seq and clock time. */
  started?: { attempt: number; seq: number; at: number };
  /** The pending retry after a failed attempt: the next attempt is due at `until`. */
  retrying?: { attempt: number; until: number };
  /** A person aborted the run while this step waited: it fails as aborted (its cleanup runs). */
  aborted?: StepError;
}

/** Where a resumed step's evaluations read state: the log up to `seq`, or the live state once it ran past the log. */
export interface ReplayCursor {
  seq: number;
  live: boolean;
  /** Seq the enclosing step attempt started at: occurrences before it belong to earlier attempts, never re-entered. */
  since: number;
}

export interface ReplayLog {
  readonly runId: string;
  readonly lastSeq: number;
  /** The next occurrence of this step actor that began after `since`; undefined past the log: the step runs live. */
  nextOccurrence(actorId: string, since: number): StepOccurrence | undefined;
  /** Step executions the log has an outcome for (a resume does not run them again). */
  readonly recordedOutcomes: number;
  /** An execution's state and computed fields after the events up to `seq` (all of them without `seq`). */
  stateAt(
    executionActorId: string,
    initialState: Record<string, unknown>,
    seq?: number,
  ): { state: Record<string, unknown>; computed: Record<string, unknown> };
  /** Whether the (sub-)workflow actor recorded `workflow.started` after `afterSeq`: re-entering it must not again. */
  startedAfter(executionActorId: string, afterSeq: number): boolean;
  /** The tool-call events of a step actor after `afterSeq` (its current attempt's calls). */
  toolCallEvents(stepActorId: string, afterSeq: number): EventEnvelope[];
  /** The value a state update by `stepActorId` recorded after `afterSeq`: it took effect before the crash. */
  stateUpdateAfter(executionActorId: string, stepActorId: string, afterSeq: number): { value: unknown } | undefined;
}

const terminalStatus: Record<string, StepStatus> = {
  'workflow.step.succeeded': 'succeeded',
  'workflow.step.skipped': 'skipped',
  'workflow.step.fallback': 'fallback',
  'workflow.step.failed': 'failed',
  'workflow.step.cancelled': 'cancelled',
};

function outcomeOf(event: EventEnvelope, status: StepStatus, attempts: number): StepOutcome {
  const data = event.data;
  const error = data['error'] as StepError | undefined;
  const result = status === 'fallback' ? data['value'] : data['result'];
  const recorded = typeof data['attempts'] === 'number' ? data['attempts'] : attempts;
  return {
    status,
    attempts: typeof data['attempt'] === 'number' ? data['attempt'] : recorded,
    at: event.ts,
    ...(result === undefined ? {} : { result }),
    ...(error === undefined
      ? status === 'cancelled'
        ? { error: { message: String(data['reason']), type: StepErrorType.cancelled } }
        : {}
      : { error }),
  };
}

export function createReplayLog(runId: string, events: readonly EventEnvelope[]): ReplayLog {
  const occurrences = new Map<string, StepOccurrence[]>();
  const consumed = new Map<string, number>();
  /** Per execution actor: its `workflow.started`, `state.updated` and `computed.evaluated` events in order. */
  const stateEvents = new Map<string, EventEnvelope[]>();
  const toolCalls = new Map<string, EventEnvelope[]>();

  const open = (actorId: string, seq: number): StepOccurrence => {
    let list = occurrences.get(actorId);
    if (!list) occurrences.set(actorId, (list = []));
    const last = list.at(-1);
    if (last && last.outcome === undefined) return last;
    const next: StepOccurrence = { actorId, firstSeq: seq, since: last?.endSeq ?? 0 };
    list.push(next);
    return next;
  };

  /**
   * A resolution reopens what the escalation closed: the waiting step and every step that failed because of it
   * (its ancestors, escalated too) or was cancelled by it (fail-fast siblings), so the run re-enters them.
   */
  function resolve(event: EventEnvelope): void {
    const waiting = event.data['stepActorId'] as string;
    const occurrence = occurrences.get(waiting)?.at(-1);
    const since = occurrence?.endSeq ?? event.seq;
    for (const list of occurrences.values()) {
      const last = list.at(-1);
      if (!last?.outcome || (last.endSeq ?? 0) < since) continue;
      const type = last.outcome.error?.type;
      if (last.outcome.status === 'cancelled' || type === StepErrorType.escalated) {
        delete last.outcome;
        delete last.endSeq;
      }
    }
    if (!occurrence) return;
    const action = event.data['action'];
    const by = typeof event.data['by'] === 'string' ? ` by ${event.data['by']}` : '';
    if (action === 'retry') {
      // From attempt 1, as if it had never run.
      delete occurrence.started;
      delete occurrence.retrying;
      occurrence.since = event.seq;
    } else if (action === 'abort') {
      occurrence.aborted = { message: `aborted${by} while escalated`, type: StepErrorType.aborted };
    } else {
      const value = action === 'value' ? (event.data['value'] ?? null) : null;
      occurrence.outcome = {
        status: 'succeeded',
        result: value,
        attempts: occurrence.started?.attempt ?? 0,
        at: event.ts,
      };
      occurrence.endSeq = event.seq;
    }
  }

  for (const event of events) {
    const { type, actorId } = event;
    if (type.startsWith('workflow.step.')) {
      const occurrence = open(actorId, event.seq);
      const status = terminalStatus[type];
      if (status !== undefined) {
        occurrence.outcome = outcomeOf(event, status, occurrence.started?.attempt ?? 0);
        occurrence.endSeq = event.seq;
      } else if (type === 'workflow.step.started') {
        occurrence.started = { attempt: Number(event.data['attempt']), seq: event.seq, at: event.ts };
        delete occurrence.retrying;
      } else if (type === 'workflow.step.retrying') {
        occurrence.retrying = { attempt: Number(event.data['attempt']), until: Number(event.data['until']) };
        occurrence.since = event.seq;
      }
    } else if (
      type === 'workflow.started' ||
      type === 'workflow.state.updated' ||
      type === 'workflow.computed.evaluated'
    ) {
      let list = stateEvents.get(actorId);
      if (!list) stateEvents.set(actorId, (list = []));
      list.push(event);
    } else if (type === 'workflow.resolved') {
      resolve(event);
    } else if (type.startsWith('toolcall.') && event.parentId !== undefined) {
      let list = toolCalls.get(event.parentId);
      if (!list) toolCalls.set(event.parentId, (list = []));
      list.push(event);
    }
  }

  /** The last fold asked for, per execution: the next ask for a later seq folds on from it. */
  const folded = new Map<
    string,
    { index: number; seq: number; state: Record<string, unknown>; computed: Record<string, unknown> }
  >();

  function stateAt(executionActorId: string, initialState: Record<string, unknown>, seq = Infinity) {
    const list = stateEvents.get(executionActorId) ?? [];
    let cached = folded.get(executionActorId);
    const restartsAfter =
      cached && list.some((event, i) => i >= cached!.index && event.seq <= seq && event.type === 'workflow.started');
    if (!cached || cached.seq > seq || restartsAfter) {
      // Folds from the execution's last start at or before `seq` (a retried sub-workflow starts afresh).
      let from = 0;
      list.forEach((event, i) => {
        if (event.type === 'workflow.started' && event.seq <= seq) from = i;
      });
      cached = { index: from, seq: 0, state: structuredClone(initialState), computed: {} };
    }
    let { index, state, computed } = cached;
    for (; index < list.length; index += 1) {
      const event = list[index] as EventEnvelope;
      if (event.seq > seq) break;
      if (event.type === 'workflow.state.updated') {
        const path = event.data['path'] as string[];
        const value = event.data['value'];
        state =
          event.data['op'] === 'delete'
            ? applyStateOperation(state, path, 'delete', undefined).state
            : applyStateOperation(state, path, 'set', value).state;
      } else if (event.type === 'workflow.computed.evaluated') {
        computed = { ...computed, [String(event.data['field']).replace(/^computed\./, '')]: event.data['output'] };
      }
    }
    folded.set(executionActorId, { index, seq: Math.min(seq, Number.MAX_SAFE_INTEGER), state, computed });
    return { state, computed };
  }

  return {
    runId,
    lastSeq: events.at(-1)?.seq ?? 0,
    recordedOutcomes: [...occurrences.values()].reduce(
      (count, list) => count + list.filter((occurrence) => occurrence.outcome).length,
      0,
    ),
    nextOccurrence(actorId, since) {
      const list = occurrences.get(actorId) ?? [];
      let index = consumed.get(actorId) ?? 0;
      while (index < list.length && (list[index] as StepOccurrence).firstSeq < since) index += 1;
      const occurrence = list[index];
      consumed.set(actorId, Math.min(index + 1, list.length));
      return occurrence;
    },
    stateAt,
    startedAfter: (executionActorId, afterSeq) =>
      (stateEvents.get(executionActorId) ?? []).some(
        (event) => event.type === 'workflow.started' && event.seq > afterSeq,
      ),
    toolCallEvents: (stepActorId, afterSeq) =>
      (toolCalls.get(stepActorId) ?? []).filter((event) => event.seq > afterSeq),
    stateUpdateAfter(executionActorId, stepActorId, afterSeq) {
      const found = (stateEvents.get(executionActorId) ?? []).find(
        (event) =>
          event.type === 'workflow.state.updated' && event.seq > afterSeq && event.data['stepActorId'] === stepActorId,
      );
      return found ? { value: found.data['value'] } : undefined;
    },
  };
}
