// A server's tool description, reduced to what retrace uses: name, description, input schema, behaviour hints.
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { ToolAnnotations } from '../policy/toolPolicy.js';
import type { ToolInfo } from './mcpTypes.js';

export function toToolInfo(tool: Tool): ToolInfo {
  const info: ToolInfo = { name: tool.name, inputSchema: tool.inputSchema };
  if (tool.description !== undefined) info.description = tool.description;
  if (tool.annotations) {
    const annotations: ToolAnnotations = {};
    const { readOnlyHint, destructiveHint, idempotentHint, openWorldHint } = tool.annotations;
    if (readOnlyHint !== undefined) annotations.readOnlyHint = readOnlyHint;
    if (destructiveHint !== undefined) annotations.destructiveHint = destructiveHint;
    if (idempotentHint !== undefined) annotations.idempotentHint = idempotentHint;
    if (openWorldHint !== undefined) annotations.openWorldHint = openWorldHint;
    info.annotations = annotations;
  }
  return info;
}
