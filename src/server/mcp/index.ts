// retrace as an MCP server: the tools, one session's server, and the Streamable HTTP host.
export { createRetraceMcpServer, retraceTools } from './mcpServer.js';
export type { McpHost } from './mcpHost.js';
export { parseListenAddress, startMcpHttpServer, type ListenAddress, type McpHttpServer } from './mcpHttpHost.js';
