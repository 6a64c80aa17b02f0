// How to reach an MCP server: a stdio command or a Streamable HTTP URL.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from '../common/canonicalJson.js';

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

/**
 * `./server.js` and a relative `cwd` of a stdio server mean "next to the file that declares it" (a config or a
 * workflow file), not "wherever retrace runs"; other arguments are the server's business and stay as written.
 */
export function withAbsolutePaths(server: ServerConfig, baseDir: string): ServerConfig {
  if (!isStdioServer(server)) return server;
  const next = { ...server };
  if (/^\.\.?[\\/]/.test(server.command)) next.command = resolve(baseDir, server.command);
  if (server.cwd !== undefined && !isAbsolute(server.cwd)) next.cwd = resolve(baseDir, server.cwd);
  return next;
}

/** Two definitions reach the same server when they are equal once parsed (defaults filled, key order ignored). */
export function sameServer(a: ServerConfig, b: ServerConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The one message for a server name given two different definitions (`elsewhere` names the other place). */
export function serverClashMessage(name: string, elsewhere: string): string {
  return `server "${name}" is defined differently by ${elsewhere}: rename one, or make the definitions equal`;
}

/** How a person recognises a server: its command line, or its URL without query or headers (they may hold secrets). */
export function describeServer(server: ServerConfig): string {
  if (isStdioServer(server)) return [server.command, ...server.args].join(' ');
  const url = new URL(server.url);
  return `${url.origin}${url.pathname}`;
}
