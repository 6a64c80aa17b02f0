// A retrace MCP tool as data: name, description, zod input and output schemas, and the work it does over the host.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { McpHost } from './mcpHost.js';
import { answering } from './toolResult.js';

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface RetraceTool<Input extends ObjectSchema, Output extends ObjectSchema> {
  name: string;
  description: string;
  input: Input;
  output: Output;
  annotations: ToolAnnotations;
  /** Throws a `RetraceError` for bad arguments, unknown runs and refusals: the caller gets it as an `isError` result. */
  run(args: z.output<Input>, host: McpHost, extra: ToolExtra): Promise<z.input<Output>>;
}

/** Registers a tool on one session's server; its answers are structured content the SDK checks against `output`. */
export type ToolRegistration = (server: McpServer, host: McpHost) => void;

export function defineTool<Input extends ObjectSchema, Output extends ObjectSchema>(
  tool: RetraceTool<Input, Output>,
): ToolRegistration {
  return (server, host) => {
    server.registerTool(
      tool.name,
      {
        description: tool.description,
        inputSchema: tool.input as ObjectSchema,
        outputSchema: tool.output as ObjectSchema,
        annotations: tool.annotations,
      },
      // The SDK validated the arguments against `input`; parsing them again gives them their type without a cast.
      (args, extra) => answering(() => tool.run(tool.input.parse(args), host, extra)),
    );
  };
}
