// Hosts the flaky server over Streamable HTTP and injects the failures below MCP (HTTP statuses, dropped and reset sockets).
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { z } from 'zod';
import { answerOverHttp } from '../common/failureShapes.js';
import { createMcpSessionRouter, listenMcpRouter } from '../common/mcpSessionRouter.js';
import { FlakyControl } from './flakyControl.js';
import type { FlakyPlan } from './flakyPlan.js';
import { createFlakyServer } from './flakyServer.js';

export interface FlakyHttpServer {
  /** `http://127.0.0.1:PORT/mcp` */
  url: string;
  control: FlakyControl;
  /** Forgets every session: the next request on an old session id gets 404. */
  expireSessions(): Promise<void>;
  sessionCount(): number;
  close(): Promise<void>;
}

export interface FlakyHttpOptions {
  port?: number;
  host?: string;
  plan?: FlakyPlan;
  control?: FlakyControl;
  allowExit?: boolean;
  /** The MCP server of each session (default: the flaky server); it answers calls with `control.take(…)` decisions. */
  createServer?: (control: FlakyControl) => { connect(transport: Transport): Promise<void> };
}

const ToolCallMessage = z.object({
  id: z.union([z.string(), z.number()]),
  method: z.literal('tools/call'),
  params: z.object({ name: z.string(), arguments: z.record(z.string(), z.unknown()).optional() }),
});

/** Hosts the flaky server over Streamable HTTP (stateful sessions) on node:http. */
export async function startFlakyHttpServer(options: FlakyHttpOptions = {}): Promise<FlakyHttpServer> {
  const control = options.control ?? new FlakyControl(options.plan);
  const allowExit = options.allowExit ?? false;
  const router = createMcpSessionRouter({
    async connect(transport) {
      control.observe(transport);
      await (options.createServer?.(control) ?? createFlakyServer({ control, allowExit })).connect(transport);
    },
    intercept(req, res, sessionId, body) {
      const call = req.method === 'POST' ? ToolCallMessage.safeParse(body) : undefined;
      if (!call?.success) return false;
      const decision = control.decide(call.data.params.name, call.data.params.arguments ?? {});
      if (decision.kind === 'fail' && answerOverHttp(decision.spec, req, res, sessionId)) return true;
      control.stash(sessionId, call.data.id, decision);
      return false;
    },
  });

  const listening = await listenMcpRouter(router, options.host ?? '127.0.0.1', options.port ?? 0);

  return {
    url: listening.url,
    control,
    expireSessions: () => router.closeAll(),
    sessionCount: () => router.size(),
    close: () => listening.close(),
  };
}
