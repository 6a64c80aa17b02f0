// The attempt actor the tool-call machine invokes: one MCP call, cut at its timeout on the injected clock.
import { fromCallback, type EventObject } from 'xstate';
import type { Clock } from '../common/clock.js';
import type { AttemptActorInput, AttemptActorOutput } from '../machines/toolCallTypes.js';
import type { AttemptRequest } from './mcpTypes.js';

export type PerformAttempt = (request: AttemptRequest) => Promise<AttemptActorOutput>;

export interface AttemptLogicOptions {
  /**
   * Waits before a non-idempotent attempt is sent (the runtime: until the call's events so far, its
   * `toolcall.attempt.started` among them, are durable), so a crash while it is in flight is always seen on resume
   * and the call is escalated instead of repeated. Idempotent attempts are sent at once.
   */
  beforeNonIdempotent?: (input: AttemptActorInput) => Promise<void>;
}

function thrown(error: unknown, startedAt: number, finishedAt: number): AttemptActorOutput {
  const cause = error instanceof Error ? error : new Error(String(error));
  const failure: AttemptActorOutput = {
    ok: false,
    failure: { source: 'exception', name: cause.name, message: cause.message },
    startedAt,
    finishedAt,
  };
  if (cause.stack !== undefined && failure.failure.source === 'exception') failure.failure.stack = cause.stack;
  return failure;
}

/**
 * Races the call against `timeoutMs` on the clock and sends back `ATTEMPT.DONE` with whichever comes first.
 * The call's signal aborts when the timeout wins or when the machine stops the attempt (cancellation); the
 * connector then sends MCP `notifications/cancelled`. A callback actor (rather than a promise actor) keeps
 * this to one AbortController and no extra promise per attempt.
 */
export function createAttemptLogic(perform: PerformAttempt, clock: Clock, options: AttemptLogicOptions = {}) {
  const { beforeNonIdempotent } = options;
  return fromCallback<EventObject, AttemptActorInput>(({ input, sendBack }) => {
    const startedAt = clock.now();
    const controller = new AbortController();
    let settled = false;
    const settle = (output: AttemptActorOutput) => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      sendBack({ type: 'ATTEMPT.DONE', output });
    };
    const timer = clock.setTimeout(() => {
      controller.abort();
      settle({
        ok: false,
        failure: { source: 'timeout', timeoutMs: input.timeoutMs, message: `no answer within ${input.timeoutMs} ms` },
        startedAt,
        finishedAt: clock.now(),
      });
    }, input.timeoutMs);
    const send = () => perform({ server: input.server, tool: input.tool, args: input.args, signal: controller.signal });
    // Sent only if nothing settled the attempt (a timeout, a cancel) while its start became durable.
    const sent =
      input.idempotent || !beforeNonIdempotent
        ? send()
        : beforeNonIdempotent(input).then(() => (settled ? undefined : send()));
    sent.then(
      (output) => output && settle(output),
      (error) => settle(thrown(error, startedAt, clock.now())),
    );
    return () => {
      if (settled) return;
      settled = true;
      clock.clearTimeout(timer);
      controller.abort();
    };
  });
}
