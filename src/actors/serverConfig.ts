// How to reach an MCP server: a stdio command or a Streamable HTTP URL.
import { z } from 'zod';

export const StdioServerConfig = z
  .object({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).optional(),
    cwd: z.string().optional(),
  })
  .strict();
export type StdioServerConfig = z.infer<typeof StdioServerConfig>;

export const HttpServerConfig = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type HttpServerConfig = z.infer<typeof HttpServerConfig>;

export const ServerConfig = z.union([StdioServerConfig, HttpServerConfig]);
export type ServerConfig = z.infer<typeof ServerConfig>;

export function isStdioServer(config: ServerConfig): config is StdioServerConfig {
  return 'command' in config;
}
