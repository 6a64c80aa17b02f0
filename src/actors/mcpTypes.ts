// The contract between the tool-call machine and whatever performs one MCP attempt.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AttemptActorOutput } from '../machines/toolCallTypes.js';
import type { ToolAnnotations } from '../policy/toolPolicy.js';

export type { CallToolResult };

/** One attempt's outcome, as the tool-call machine takes it. The connector never throws for a failed call: failures are data. */
export type AttemptOutcome = AttemptActorOutput;

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
  /** Closes the server's connections (a workflow's own server no run needs any more); the next call opens a new one. */
  disconnect?(server: string): Promise<void>;
  close(): Promise<void>;
}
