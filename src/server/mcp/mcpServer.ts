// `retrace mcp`: retrace as an MCP server whose tools start, inspect, steer and debug workflow runs.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolRegistration } from './defineTool.js';
import {
  workflowDebugInfo,
  workflowExplainPlan,
  workflowTestTransformation,
  workflowTraceTransformations,
} from './debugTools.js';
import { health, workflowMetrics, workflowReplay } from './insightTools.js';
import type { McpHost } from './mcpHost.js';
import {
  workflowCancel,
  workflowList,
  workflowResolve,
  workflowResume,
  workflowStart,
  workflowStatus,
} from './runTools.js';

export const retraceTools: readonly ToolRegistration[] = [
  workflowStart,
  workflowStatus,
  workflowList,
  workflowCancel,
  workflowResume,
  workflowResolve,
  workflowReplay,
  workflowMetrics,
  workflowTraceTransformations,
  workflowDebugInfo,
  workflowTestTransformation,
  workflowExplainPlan,
  health,
];

/** One session's server (one per stdio connection or HTTP session); every session shares the host's runtime. */
export function createRetraceMcpServer(host: McpHost): McpServer {
  const server = new McpServer(
    { name: 'retrace', version: host.version },
    {
      capabilities: { tools: {} },
      instructions:
        'retrace runs YAML workflows of MCP tool calls with retries, fallbacks and escalation, recording every fact in a log. Start a run with workflow_start, watch it with workflow_status; a run that escalates waits for workflow_resolve. workflow_replay, workflow_metrics, workflow_debug_info and workflow_trace_transformations read runs back from the log.',
    },
  );
  for (const register of retraceTools) register(server, host);
  return server;
}
