// Where a recorded tool call is in its machine (src/machines/toolCall.ts): the states each recorded fact takes it
// through, eventless ones (idle, preparing, judging, fallback, exhausted) included, the last being where it rests.
// Pure: the run viewer highlights the call's state at its scrubber and `retrace replay --inspect` shows it.

/** The states of the tool-call machine a call can be seen in, in the machine's order. */
export type ToolCallStateName =
  | 'idle'
  | 'preparing'
  | 'calling'
  | 'judging'
  | 'backoff'
  | 'fallback'
  | 'readingCache'
  | 'exhausted'
  | 'succeeded'
  | 'partial'
  | 'cached'
  | 'skipped'
  | 'emptyResult'
  | 'failed'
  | 'escalated'
  | 'cancelled';

/** Where `judging` sends a failed attempt, by the decision `toolcall.attempt.failed` records. */
const decisionTarget: Readonly<Record<string, ToolCallStateName>> = {
  retry: 'backoff',
  fallback: 'fallback',
  fail: 'exhausted',
  escalate: 'escalated',
  skip: 'skipped',
  partial: 'partial',
  sync_alternative: 'preparing',
  cancel: 'cancelled',
};

/** The final state `toolcall.succeeded` names by its status (a `fallback` without an answering attempt is empty). */
function succeededState(data: Readonly<Record<string, unknown>>): ToolCallStateName {
  switch (data['status']) {
    case 'partial':
      return 'partial';
    case 'cached':
      return 'cached';
    case 'skipped':
      return 'skipped';
    case 'fallback':
      return data['n'] === undefined ? 'emptyResult' : 'succeeded';
    default:
      return 'succeeded';
  }
}

/** The way to a final state from where the call rests: `fallback` ends there only through `exhausted`. */
function ending(from: ToolCallStateName | undefined, final: ToolCallStateName): ToolCallStateName[] {
  if (from === final) return [];
  if (from === 'fallback' && (final === 'failed' || final === 'escalated')) return ['exhausted', final];
  return [final];
}

/**
 * The states a `toolcall.*` fact takes a call through from `from` (where its previous fact left it); empty when it
 * does not move the call (or is no tool-call fact).
 */
export function toolCallStatesAfter(
  from: ToolCallStateName | undefined,
  type: string,
  data: Readonly<Record<string, unknown>>,
): ToolCallStateName[] {
  switch (type) {
    case 'toolcall.requested':
      return ['idle'];
    case 'toolcall.attempt.started':
      return from === 'idle' || from === undefined || from === 'preparing' ? ['calling'] : ['preparing', 'calling'];
    case 'toolcall.attempt.failed': {
      const target = decisionTarget[String(data['decision'])];
      return target === undefined ? ['judging'] : ['judging', target];
    }
    case 'toolcall.backoff.scheduled':
      return from === 'backoff' ? [] : ['backoff'];
    case 'toolcall.fallback.started':
      return from === 'fallback' ? [] : ['fallback'];
    case 'toolcall.cache.hit':
      return ['readingCache', 'cached'];
    case 'toolcall.cache.miss':
      return ['readingCache', 'fallback'];
    case 'toolcall.succeeded':
      return ending(from, succeededState(data));
    case 'toolcall.failed': {
      const error = data['error'];
      const cancelled =
        typeof error === 'object' && error !== null && (error as Record<string, unknown>)['kind'] === 'cancelled';
      return ending(from, cancelled || from === 'cancelled' ? 'cancelled' : 'failed');
    }
    case 'toolcall.escalated':
      return ending(from, 'escalated');
    default:
      return [];
  }
}

/** Each call's way through its machine, fact by fact: `seq` → the states that fact entered (only facts that moved it). */
export function toolCallPaths(
  events: readonly { seq: number; type: string; actorId: string; data: Readonly<Record<string, unknown>> }[],
): Map<number, ToolCallStateName[]> {
  const at = new Map<string, ToolCallStateName>();
  const paths = new Map<number, ToolCallStateName[]>();
  for (const event of events) {
    if (!event.type.startsWith('toolcall.')) continue;
    const states = toolCallStatesAfter(at.get(event.actorId), event.type, event.data);
    const last = states.at(-1);
    if (last === undefined) continue;
    at.set(event.actorId, last);
    paths.set(event.seq, states);
  }
  return paths;
}
