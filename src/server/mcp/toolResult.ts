// How a retrace MCP tool answers: structured content (with the same JSON as text), or an `isError` result whose text
// names the error code and what went wrong.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isRetraceError } from '../../common/errors.js';

/** A tool's answer: `value` is its structured content, checked by the client against the tool's output schema. */
export function toolAnswer(value: object): CallToolResult {
  const structuredContent = toPlainJson(value);
  return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent };
}

/** A failure as the agent reads it: `E_UNKNOWN_RUN: no run "x" in the log …`. */
export function toolFailure(error: unknown): CallToolResult {
  const text = isRetraceError(error)
    ? `${error.code}: ${error.describe()}`
    : error instanceof Error
      ? error.message
      : String(error);
  return { content: [{ type: 'text', text }], isError: true };
}

/** Runs a tool's work; any throw becomes an `isError` result instead of a protocol error. */
export async function answering(work: () => Promise<object>): Promise<CallToolResult> {
  try {
    return toolAnswer(await work());
  } catch (error) {
    return toolFailure(error);
  }
}

/** What JSON makes of a value (undefined fields dropped): what the client validates, so what we validate too. */
function toPlainJson(value: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
