// Default rules read from protocol facts: retrace's own failures, the transport, HTTP statuses and the MCP SDK's errors.
import type { ClassificationRule } from '../classificationRule.js';

export const runtimeRules: ClassificationRule[] = [
  { name: 'default:cancelled', when: { source: 'cancelled' }, kind: 'cancelled', retryable: false },
  // The breaker refused this tool: retrying it is pointless until the cool-down ends; the machine falls back.
  { name: 'default:circuit-open', when: { source: 'circuit' }, kind: 'circuit_open', retryable: false },
  { name: 'default:attempt-timeout', when: { source: 'timeout' }, kind: 'timeout' },
];

export const transportRules: ClassificationRule[] = [
  // A stdio server whose binary is missing or not executable will not appear by retrying in a second:
  // the server is unavailable (a fallback tool on another server may still serve), but not retryable.
  {
    name: 'default:transport-spawn-failed',
    when: { source: 'transport', reason: 'spawn_failed' },
    kind: 'unavailable',
    retryable: false,
  },
  // A refused or reset connection, or a stdio server that exited: the next attempt reconnects (or respawns).
  {
    name: 'default:transport-connection-lost',
    when: { source: 'transport', reason: ['refused', 'reset', 'closed', 'exited'] },
    kind: 'unavailable',
  },
  { name: 'default:transport-other', when: { source: 'transport' }, kind: 'unavailable' },
];

export const httpRules: ClassificationRule[] = [
  // Streamable HTTP answers 404 "Session not found" (and 400 for a missing session) after a server
  // restart: the connector starts a new session on the next attempt, so this is not a missing resource.
  {
    name: 'default:http-session-expired',
    when: {
      source: 'http',
      status: [400, 404],
      message: 'session not found|no valid session|session (?:id|expired|terminated)|not initialized',
    },
    kind: 'unavailable',
  },
  { name: 'default:http-429', when: { source: 'http', status: 429 }, kind: 'rate_limit' },
  // GitHub-style APIs say "rate limited" with a 403 and an exhausted budget.
  {
    name: 'default:http-403-rate-limit',
    when: { source: 'http', status: 403, field: { path: 'headers.x-ratelimit-remaining', equals: '0' } },
    kind: 'rate_limit',
  },
  { name: 'default:http-401', when: { source: 'http', status: 401 }, kind: 'auth' },
  { name: 'default:http-403', when: { source: 'http', status: 403 }, kind: 'permission' },
  { name: 'default:http-404', when: { source: 'http', status: [404, 410] }, kind: 'not_found' },
  { name: 'default:http-408', when: { source: 'http', status: 408 }, kind: 'timeout' },
  { name: 'default:http-409', when: { source: 'http', status: 409 }, kind: 'lock' },
  { name: 'default:http-400', when: { source: 'http', status: [400, 413, 414, 415, 422, 431] }, kind: 'invalid_input' },
  { name: 'default:http-501', when: { source: 'http', status: 501 }, kind: 'unimplemented' },
  { name: 'default:http-502-503-504', when: { source: 'http', status: [502, 503, 504] }, kind: 'unavailable' },
];

/**
 * The SDK's words for a tool whose output broke its declared schema (server side: `Output validation
 * error: …`; client side: `Structured content does not match the tool's output schema`). The tool ran.
 */
const OUTPUT_SCHEMA_PATTERN =
  "output validation error|structured content does not match the tool's output schema|has an output schema but (?:no structured content was provided|did not return structured content)|failed to validate structured content";

/**
 * The SDK server's words for a tool handler whose result broke the protocol's own CallToolResult schema
 * (`MCP error -32602: Invalid tools/call result: …`). Sent as -32602 like bad arguments, but the tool ran.
 */
const MALFORMED_RESULT_PATTERN = '\\binvalid tools/call result\\b';

/**
 * Either wording of "the tool ran and its result was rejected": the classifier reads it to answer
 * `maybeExecuted` with yes, whichever rule matched.
 */
export const OUTPUT_VALIDATION_PATTERN = `${OUTPUT_SCHEMA_PATTERN}|${MALFORMED_RESULT_PATTERN}`;

/** The MCP SDK's own errors, by JSON-RPC code; tool results carry the code in their `MCP error -32602: …` text. */
export const mcpRules: ClassificationRule[] = [
  { name: 'default:rpc-request-timeout', when: { source: ['rpc', 'tool'], code: -32001 }, kind: 'timeout' },
  {
    name: 'default:rpc-connection-closed',
    when: { source: ['rpc', 'tool'], code: -32000, message: 'connection closed' },
    kind: 'unavailable',
  },
  { name: 'default:rpc-method-not-found', when: { source: ['rpc', 'tool'], code: -32601 }, kind: 'unimplemented' },
  // `Tool nope not found` (and `disabled`) come back as -32602 like bad arguments, but another tool may serve.
  {
    name: 'default:mcp-unknown-tool',
    when: {
      source: ['rpc', 'tool'],
      message:
        '^(?:mcp error -?\\d+:\\s*)?tool\\s+\\S+\\s+(?:not found|disabled)$|\\bunknown tool\\b|\\bno such tool\\b',
    },
    kind: 'unimplemented',
  },
  // The tool ran but its output broke its own schema: a server bug that repeating will not fix.
  {
    name: 'default:mcp-output-validation',
    when: {
      source: ['rpc', 'tool'],
      message: OUTPUT_SCHEMA_PATTERN,
    },
    kind: 'unknown',
    class: 'permanent',
    retryable: false,
  },
  // The tool ran but returned something that is not a tool result: the server's bug, not the caller's input.
  {
    name: 'default:mcp-malformed-result',
    when: { source: ['rpc', 'tool'], message: MALFORMED_RESULT_PATTERN },
    kind: 'unknown',
    class: 'permanent',
    retryable: false,
  },
  {
    name: 'default:mcp-input-validation',
    when: { source: ['rpc', 'tool'], message: 'input validation error|invalid arguments for tool' },
    kind: 'invalid_input',
  },
  { name: 'default:rpc-invalid-params', when: { source: ['rpc', 'tool'], code: -32602 }, kind: 'invalid_input' },
  // A request the server could not parse or accept is retrace's (or the caller's) mistake, not a passing state.
  {
    name: 'default:rpc-invalid-request',
    when: { source: ['rpc', 'tool'], code: [-32700, -32600] },
    kind: 'invalid_input',
  },
];
