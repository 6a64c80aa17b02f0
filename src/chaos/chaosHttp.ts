// The chaos proxy over Streamable HTTP: each downstream session gets a session of its own upstream; faults below
// MCP (503, 429 with Retry-After, a dropped connection) are answered here before the session's transport sees them.
import { z } from 'zod';
import type { HttpServerConfig } from '../actors/serverConfig.js';
import { systemClock, type Clock } from '../common/clock.js';
import { answerOverHttp } from '../common/failureShapes.js';
import { bearerAdmission, tokenFor } from '../common/loopback.js';
import { createMcpSessionRouter, listenMcpRouter } from '../common/mcpSessionRouter.js';
import { ChaosEngine } from './chaosEngine.js';
import { injectionFor, type ChaosHit } from './chaosFaults.js';
import type { ChaosPlan } from './chaosPlan.js';
import type { ChaosState } from './chaosState.js';
import { serveChaosSession, type ChaosSession } from './chaosSession.js';

export interface ChaosHttpOptions {
  plan: ChaosPlan;
  target: HttpServerConfig;
  /** 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default): any free port. */
  port?: number;
  /** Required as `Authorization: Bearer TOKEN` on every request; needed to bind beyond loopback. */
  token?: string;
  clock?: Clock;
  /** The dice to go on from, and where to report each decision's state (`--state`). */
  resumed?: ChaosState;
  onDecided?(state: ChaosState): void;
  /** Told about sessions that could not open their upstream, and upstreams lost mid-session. */
  onProblem?(message: string): void;
}

export interface ChaosHttpProxy {
  /** `http://HOST:PORT/mcp` */
  url: string;
  engine: ChaosEngine;
  close(): Promise<void>;
}

const ToolCallMessage = z.object({
  id: z.union([z.string(), z.number()]),
  method: z.literal('tools/call'),
  params: z.object({ name: z.string() }),
});

export async function startChaosHttpProxy(options: ChaosHttpOptions): Promise<ChaosHttpProxy> {
  const host = options.host ?? '127.0.0.1';
  const token = tokenFor(
    host,
    options.token,
    `--listen ${host}:${String(options.port ?? 0)}: an address beyond loopback needs --token (clients then send Authorization: Bearer <token>)`,
  );
  const engine = new ChaosEngine(options.plan, options.clock ?? systemClock, options.resumed, options.onDecided);
  const problem = options.onProblem ?? (() => undefined);
  /** Decisions the host took for calls it let through, by `sessionId requestId`, for the session's handler. */
  const decided = new Map<string, ChaosHit | null>();
  const sessions = new Set<ChaosSession>();
  const router = createMcpSessionRouter({
    admit: bearerAdmission(token),
    connect(transport) {
      // Not awaited: the session waits for the initialize request the router hands the transport next.
      serveChaosSession(transport, {
        engine,
        mode: 'http',
        upstream: options.target,
        onCrash: () => undefined,
        onUpstreamLost: (why) => problem(`the upstream server (${options.target.url}) ${why}; session closed`),
        decided(sessionId, requestId) {
          const key = `${sessionId} ${requestId}`;
          const hit = decided.get(key);
          decided.delete(key);
          return hit;
        },
      }).then(
        (session) => {
          sessions.add(session);
          void session.closed.then(() => sessions.delete(session));
        },
        (error: unknown) => problem(error instanceof Error ? error.message : String(error)),
      );
      return Promise.resolve();
    },
    intercept(req, res, sessionId, body) {
      const call = req.method === 'POST' ? ToolCallMessage.safeParse(body) : undefined;
      if (!call?.success) return false;
      const hit = engine.decide(call.data.params.name);
      const injection = hit && injectionFor(hit, 'http');
      if (injection?.type === 'http' && answerOverHttp(injection.spec, req, res, sessionId)) return true;
      decided.set(`${sessionId} ${call.data.id}`, hit ?? null);
      return false;
    },
  });

  const listening = await listenMcpRouter(router, host, options.port ?? 0);

  return {
    url: listening.url,
    engine,
    async close() {
      await router.closeAll();
      await Promise.all([...sessions].map((session) => session.close()));
      await listening.close();
    },
  };
}
