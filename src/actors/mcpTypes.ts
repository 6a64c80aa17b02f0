// The contract between the tool-call machine and whatever performs one MCP attempt.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RawFailure } from '../policy/failure.js';
import type { ToolAnnotations } from '../policy/toolPolicy.js';

export type { CallToolResult };

/** One attempt's outcome. The connector never throws for a failed call: failures are data. */
export type AttemptOutcome =
  | { ok: true; result: CallToolResult; startedAt: number; finishedAt: number }
  | { ok: false; failure: RawFailure; startedAt: number; finishedAt: number };

export interface AttemptRequest {
  server: string;
  tool: string;
  args: Record<string, unknown>;
  /** Aborted by the machine when the attempt times out or the call is cancelled; sends MCP cancellation. */
  signal: AbortSignal;
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

export interface ToolInfo {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: ToolAnnotations;
}

/** Performs attempts against named servers; one connection per server, reconnected after a crash or a dropped session. */
export interface McpConnector {
  callTool(request: AttemptRequest): Promise<AttemptOutcome>;
  /** Lists a server's tools (cached per connection). Throws a RetraceError if the server cannot be reached. */
  listTools(server: string): Promise<ToolInfo[]>;
  close(): Promise<void>;
}
