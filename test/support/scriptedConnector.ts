// An in-process connector answering from a script, for runtime tests on the simulated clock (the real-server tests cover I/O).
import type { AttemptOutcome, AttemptRequest, McpConnector, ToolInfo } from '../../src/actors/mcpTypes.js';
import type { Clock } from '../../src/common/clock.js';
import type { RawFailure } from '../../src/policy/failure.js';

export type ScriptedAnswer = { text: string } | { failure: RawFailure } | { hang: true };

export function createScriptedConnector(
  clock: Clock,
  answer: (request: AttemptRequest, callNumber: number) => ScriptedAnswer,
  tools: ToolInfo[] = [],
  listTools: (server: string) => Promise<ToolInfo[]> = () => Promise.resolve(tools),
): McpConnector & { calls: AttemptRequest[] } {
  const calls: AttemptRequest[] = [];
  return {
    calls,
    callTool(request) {
      calls.push(request);
      const at = clock.now();
      const reply = answer(request, calls.length);
      if ('hang' in reply) {
        // Like the real connector: an aborted attempt resolves as cancelled.
        return new Promise<AttemptOutcome>((resolve) =>
          request.signal.addEventListener('abort', () =>
            resolve({
              ok: false,
              failure: { source: 'cancelled', message: 'aborted' },
              startedAt: at,
              finishedAt: clock.now(),
            }),
          ),
        );
      }
      const outcome: AttemptOutcome =
        'text' in reply
          ? { ok: true, result: { content: [{ type: 'text', text: reply.text }] }, startedAt: at, finishedAt: at }
          : { ok: false, failure: reply.failure, startedAt: at, finishedAt: at };
      return Promise.resolve(outcome);
    },
    listTools,
    close: () => Promise.resolve(),
  };
}
