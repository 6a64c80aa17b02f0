// Turns the tool-call machine's events into the seed's structured error records and progress lines in pino.
import type { Logger } from 'pino';
import { createRedactor } from '../common/redact.js';
import type { ToolCallEmitted } from '../machines/toolCallTypes.js';

export type ToolCallLogger = (event: ToolCallEmitted) => void;

/** Redaction paths are relative to event data (`args.token`), as in the log and the event stream.
 * Keeps each call's arguments from its `requested` event so error records can show them as `params`. */
export function createToolCallLogger(logger: Logger, redactPaths: string[]): ToolCallLogger {
  const redact = createRedactor(redactPaths);
  const paramsByCall = new Map<string, unknown>();
  return (event) => {
    switch (event.type) {
      case 'toolcall.requested':
        // Redacted only when a record is written: the success path pays nothing.
        if (logger.isLevelEnabled('error')) paramsByCall.set(event.callId, event.args);
        logger.debug({ callId: event.callId, server: event.server, tool: event.tool }, 'tool call requested');
        break;
      case 'toolcall.attempt.failed': {
        const { failure } = event;
        const record = {
          timestamp: new Date(event.at).toISOString(),
          tool_name: event.tool,
          error_type: failure.kind,
          error_message: failure.message,
          params: (redact({ args: paramsByCall.get(event.callId) }) as { args: unknown }).args,
          retry_attempt: event.n,
          context: {
            server: event.server,
            callId: event.callId,
            class: failure.class,
            rule: failure.rule,
            decision: event.decision,
            reason: event.reason,
          },
          stack_trace:
            logger.isLevelEnabled('debug') && failure.cause.source === 'exception' ? failure.cause.stack : undefined,
        };
        if (event.decision === 'retry') logger.warn(record, `Tool error: ${event.tool} attempt ${event.n}; retrying`);
        else logger.error(record, `Tool error: ${event.tool} attempt ${event.n}; ${event.decision}`);
        break;
      }
      case 'toolcall.backoff.scheduled':
        logger.info(
          { callId: event.callId, tool: event.tool, delayMs: event.delayMs, until: event.until },
          `Retry ${event.n} for ${event.tool} after ${(event.delayMs / 1000).toFixed(1)}s`,
        );
        break;
      case 'toolcall.fallback.started':
        logger.warn(
          { callId: event.callId, tool: event.tool, to: event.to, reason: event.reason },
          `Primary tool ${event.tool} failed (${event.reason}). Trying fallback: ${event.to ? event.to.tool : 'empty result'}`,
        );
        break;
      case 'toolcall.cache.hit':
        logger.info(
          { callId: event.callId, tool: event.tool, ageMs: event.ageMs },
          `Using cached result (age: ${Math.round(event.ageMs / 1000)}s)`,
        );
        break;
      case 'toolcall.succeeded':
      case 'toolcall.failed':
      case 'toolcall.escalated':
        paramsByCall.delete(event.callId);
        logger.debug({ callId: event.callId, server: event.server, tool: event.tool }, event.type);
        break;
      default:
        break;
    }
  };
}
