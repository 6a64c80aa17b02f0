// The HTTP endpoints of `retrace serve` (node:http): /metrics, /healthz, /readyz; other pages are added as routes.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Runtime } from '../../actors/runtime.js';
import { silentLogger, type Logger } from '../../actors/logger.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { bearerTokenMatches } from '../../common/httpJson.js';
import { tokenFor } from '../../common/loopback.js';
import type { NatsBus } from '../../events/natsBus.js';
import type { EventStore } from '../../store/eventStore.js';
import { createMetricsRegistry, type MetricsRegistry } from '../metrics/metricsRegistry.js';
import { checkReadiness, type Check, type Readiness } from './readiness.js';

export type RouteHandler = (request: IncomingMessage, response: ServerResponse, url: URL) => void | Promise<void>;

export interface ObservabilityServerOptions {
  /** The runtime the store records for (its clock stamps the events); without one, `clock` or the system clock. */
  runtime?: Pick<Runtime, 'clock'>;
  /** The clock the events are stamped by (a breaker's time open counts to its now), when no runtime is given. */
  clock?: Pick<Clock, 'now'>;
  /** The store the metrics and pages read: a runtime's log, or a read-only view of one another process writes. */
  store: EventStore;
  /** With NATS configured: readiness includes its connection. */
  bus?: Pick<NatsBus, 'connected'> | undefined;
  /** 127.0.0.1 by default; any other address needs `token`. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Required as `Authorization: Bearer TOKEN` on every request when set (and when bound beyond loopback). */
  token?: string | undefined;
  logger?: Logger;
  /** Process memory and event-loop lag series (prom-client's default metrics); on by default. */
  processMetrics?: boolean;
  /** Readiness checks of the caller's, by name; `log` or `nats` replaces the built-in check of that name. */
  readinessChecks?: Readonly<Record<string, () => Check>>;
}

export interface ObservabilityServer {
  /** `http://host:port` once listening. */
  readonly url: string;
  readonly port: number;
  readonly metrics: MetricsRegistry;
  /** Adds a page (the run viewer's): exact path, one method. */
  route(method: string, path: string, handler: RouteHandler): void;
  readiness(): Readiness;
  close(): Promise<void>;
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}

/** Starts listening; resolves once the port is bound. */
export async function createObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  const host = options.host ?? '127.0.0.1';
  const token = tokenFor(
    host,
    options.token,
    `serve: binding ${host} (beyond loopback) requires a token (--token, or RETRACE_TOKEN), sent as "Authorization: Bearer TOKEN"`,
  );
  const logger = options.logger ?? silentLogger;
  const metrics = createMetricsRegistry({
    store: options.store,
    clock: options.runtime?.clock ?? options.clock ?? systemClock,
    ...(options.processMetrics === undefined ? {} : { processMetrics: options.processMetrics }),
  });
  const readiness = (): Readiness =>
    checkReadiness({ store: options.store, bus: options.bus, facts: metrics.facts, extra: options.readinessChecks });
  const routes = new Map<string, Map<string, RouteHandler>>();
  const route = (method: string, path: string, handler: RouteHandler): void => {
    let methods = routes.get(path);
    if (!methods) routes.set(path, (methods = new Map()));
    methods.set(method.toUpperCase(), handler);
  };

  route('GET', '/metrics', async (_request, response) => {
    const text = await metrics.scrape();
    response.writeHead(200, { 'content-type': metrics.registry.contentType });
    response.end(text);
  });
  route('GET', '/healthz', (_request, response) => sendJson(response, 200, { status: 'alive', pid: process.pid }));
  route('GET', '/readyz', (_request, response) => {
    const state = readiness();
    sendJson(response, state.ready ? 200 : 503, state);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (token !== undefined && !bearerTokenMatches(request.headers.authorization, token)) {
      response.setHeader('www-authenticate', 'Bearer');
      sendJson(response, 401, { error: 'missing or wrong bearer token' });
      return;
    }
    const methods = routes.get(url.pathname);
    const handler =
      methods?.get(request.method ?? 'GET') ?? (request.method === 'HEAD' ? methods?.get('GET') : undefined);
    if (!methods) {
      sendJson(response, 404, { error: `no page at ${url.pathname}`, pages: [...routes.keys()] });
    } else if (!handler) {
      response.setHeader('allow', [...methods.keys()].join(', '));
      sendJson(response, 405, { error: `${String(request.method)} is not allowed on ${url.pathname}` });
    } else {
      await handler(request, response, url);
    }
    logger.debug({ method: request.method, path: url.pathname, status: response.statusCode }, 'http request');
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, path: request.url }, 'http handler failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error; see the server log' });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => {
      void metrics.close();
      reject(
        new RetraceError(ErrorCode.usage, `serve: cannot listen on ${host}:${options.port ?? 0}: ${error.message}`, {
          cause: error,
        }),
      );
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger.info({ url }, 'serving /metrics, /healthz, /readyz');

  return {
    url,
    port,
    metrics,
    route,
    readiness,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await metrics.close();
    },
  };
}
