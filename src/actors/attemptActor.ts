// The attempt actor the tool-call machine invokes: one MCP call, cut at its timeout on the injected clock.
import { fromPromise } from 'xstate';
import type { Clock } from '../common/clock.js';
import type { AttemptActorInput, AttemptActorOutput } from '../machines/toolCallTypes.js';
import type { AttemptRequest } from './mcpTypes.js';

export type PerformAttempt = (request: AttemptRequest) => Promise<AttemptActorOutput>;

/**
 * Races the call against `timeoutMs` on the clock. The call's signal aborts when the timeout wins or the
 * machine leaves `calling` (cancellation); the connector then sends MCP `notifications/cancelled`.
 */
export function createAttemptLogic(perform: PerformAttempt, clock: Clock) {
  return fromPromise<AttemptActorOutput, AttemptActorInput>(({ input, signal: stopped }) => {
    const startedAt = clock.now();
    // A resolved promise actor no longer aborts its own signal when stopped, so the timeout aborts this one.
    const controller = new AbortController();
    const abort = () => controller.abort();
    stopped.addEventListener('abort', abort, { once: true });
    const signal = controller.signal;
    return new Promise<AttemptActorOutput>((resolve) => {
      const timer = clock.setTimeout(() => {
        stopped.removeEventListener('abort', abort);
        controller.abort();
        resolve({
          ok: false,
          failure: { source: 'timeout', timeoutMs: input.timeoutMs, message: `no answer within ${input.timeoutMs} ms` },
          startedAt,
          finishedAt: clock.now(),
        });
      }, input.timeoutMs);
      perform({ server: input.server, tool: input.tool, args: input.args, signal }).then(
        (outcome) => {
          clock.clearTimeout(timer);
          stopped.removeEventListener('abort', abort);
          resolve(outcome);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          stopped.removeEventListener('abort', abort);
          const cause = error instanceof Error ? error : new Error(String(error));
          const failure: AttemptActorOutput = {
            ok: false,
            failure: { source: 'exception', name: cause.name, message: cause.message },
            startedAt,
            finishedAt: clock.now(),
          };
          if (cause.stack !== undefined && failure.ok === false && failure.failure.source === 'exception') {
            failure.failure.stack = cause.stack;
          }
          resolve(failure);
        },
      );
    });
  });
}
