// One downstream session of the chaos proxy: a low-level MCP Server that mirrors the upstream (its name,
// capabilities and instructions) and forwards every request and notification both ways, except the tools/calls
// the plan faults and the report resource it adds.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpError, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type {
  ClientRequest,
  JSONRPCRequest,
  Notification,
  Progress,
  ProgressNotification,
  Request,
  Result,
  ServerNotification,
  ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../actors/serverConfig.js';
import { waitOrAbort } from '../common/clock.js';
import { JsonRpcFailure, errorText, failureResult } from '../common/failureShapes.js';
import type { ChaosEngine } from './chaosEngine.js';
import { injectionFor, type ChaosHit } from './chaosFaults.js';
import type { ChaosMode } from './chaosPlan.js';
import { REPORT_URI } from './chaosReport.js';
import { InitializeGate } from './initializeGate.js';
import { openUpstream, type Upstream } from './upstream.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ChaosSessionOptions {
  engine: ChaosEngine;
  mode: ChaosMode;
  upstream: ServerConfig;
  /** A `crash` fault: the upstream was killed; the proxy process should end now (the CLI exits). */
  onCrash(): void;
  /** The upstream went away by itself (`why`: "exited with code 1", …). */
  onUpstreamLost?(why: string): void;
  /** Over HTTP, the host decided a call's fault already (`null`: none); undefined: decide here. */
  decided?(sessionId: string | undefined, requestId: string | number): ChaosHit | null | undefined;
}

export interface ChaosSession {
  server: Server;
  upstream: Upstream;
  /** Resolves once the session ended, from either side. */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** Past the SDK's 60 s default: the downstream client's own timeout (and its cancellation) decides. */
const backstopTimeoutMs = 24 * 60 * 60 * 1_000;

/** The upstream's error, re-sent as it came (the SDK's McpError message carries an `MCP error <code>: ` prefix). */
function asJsonRpcFailure(error: unknown): JsonRpcFailure {
  if (error instanceof McpError) {
    const prefix = `MCP error ${error.code}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new JsonRpcFailure(error.code, message, error.data);
  }
  return new JsonRpcFailure(-32603, error instanceof Error ? error.message : String(error));
}

/** Serves one downstream connection: waits for its initialize, opens the upstream, then forwards. */
export async function serveChaosSession(transport: Transport, options: ChaosSessionOptions): Promise<ChaosSession> {
  const gate = new InitializeGate(transport);
  const init = await gate.waitForInitialize();
  /** Set once the upstream is open: the upstream may send requests during its handshake already. */
  const downstream: { server?: Server } = {};
  let upstream: Upstream;
  try {
    upstream = await openUpstream(options.upstream, init.params, (client) => {
      // Requests and notifications the upstream sends its client go on to the downstream client.
      client.fallbackRequestHandler = async (request, extra) => {
        const { server } = downstream;
        if (!server) throw new JsonRpcFailure(-32603, 'the proxy is not connected downstream yet');
        const { method, params } = request;
        return forward(
          (message, requestOptions) => server.request(message as ServerRequest, ResultSchema, requestOptions),
          { method, params },
          extra.signal,
          (progress) => extra.sendNotification({ method: 'notifications/progress', params: progress }),
        );
      };
      client.fallbackNotificationHandler = async (notification: Notification) =>
        downstream.server?.notification(notification as ServerNotification);
    });
  } catch (error) {
    await gate.reject(init.id, -32603, error instanceof Error ? error.message : String(error));
    await gate.close().catch(() => undefined);
    throw error;
  }
  const { client } = upstream;
  const upstreamCapabilities = client.getServerCapabilities() ?? {};
  const instructions = client.getInstructions();
  const server = new Server(client.getServerVersion() ?? { name: 'upstream', version: '0.0.0' }, {
    capabilities: { ...upstreamCapabilities, resources: { ...upstreamCapabilities.resources } },
    ...(instructions === undefined ? {} : { instructions }),
  });
  // The SDK answers logging/setLevel itself when logging is declared; the upstream should hear it instead.
  server.removeRequestHandler('logging/setLevel');
  /** Where the upstream's progress for a forwarded request goes, by the caller's own progress token. */
  const progressRoutes = new Map<string | number, (progress: ProgressNotification['params']) => void>();
  upstream.onProgress = (progress) => progressRoutes.get(progress.progressToken)?.(progress);
  const toUpstream = async (request: Request, extra: Extra): Promise<Result> => {
    options.engine.report.recordRequest(request.method);
    // The caller's progress token goes upstream as it is; the upstream's progress comes back under it, in order,
    // and before the answer.
    const token = progressTokenOf(request);
    let progressSent = Promise.resolve();
    if (token !== undefined) {
      progressRoutes.set(token, (progress) => {
        const notification = { method: 'notifications/progress' as const, params: progress };
        progressSent = progressSent.then(() => extra.sendNotification(notification)).catch(() => undefined);
      });
    }
    try {
      return await client.request(request as ClientRequest, ResultSchema, {
        signal: extra.signal,
        timeout: backstopTimeoutMs,
      });
    } catch (error) {
      throw asJsonRpcFailure(error);
    } finally {
      if (token !== undefined) progressRoutes.delete(token);
      await progressSent;
    }
  };
  const hasResources = upstreamCapabilities.resources !== undefined;
  server.fallbackRequestHandler = async (jsonRpc: JSONRPCRequest, extra: Extra) => {
    const request: Request = { method: jsonRpc.method, ...(jsonRpc.params ? { params: jsonRpc.params } : {}) };
    const params = jsonRpc.params ?? {};
    switch (request.method) {
      case 'tools/call':
        return callTool(request, extra);
      case 'resources/list': {
        const listed = hasResources ? await toUpstream(request, extra) : { resources: [] };
        if (params['cursor'] !== undefined) return listed;
        const resources = Array.isArray(listed['resources']) ? (listed['resources'] as unknown[]) : [];
        return { ...listed, resources: [...resources, reportResource] };
      }
      case 'resources/templates/list':
        return hasResources ? toUpstream(request, extra) : { resourceTemplates: [] };
      case 'resources/read':
        if (params['uri'] === REPORT_URI) return readReport();
        return toUpstream(request, extra);
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        if (params['uri'] === REPORT_URI) return {};
        return toUpstream(request, extra);
      default:
        return toUpstream(request, extra);
    }
  };
  server.fallbackNotificationHandler = (notification) => client.notification(notification);

  async function callTool(request: Request, extra: Extra): Promise<Result> {
    const name = request.params?.['name'];
    const tool = typeof name === 'string' ? name : '';
    const decided = options.decided?.(extra.sessionId, extra.requestId);
    const hit = decided === undefined ? options.engine.decide(tool) : (decided ?? undefined);
    if (hit === undefined) return toUpstream(request, extra);
    // Faults the HTTP host answers below MCP reach here only inside a batch: they answer as over stdio.
    const injection = injectionFor(hit, 'stdio');
    switch (injection.type) {
      case 'delay':
        if (!(await waitOrAbort(options.engine.clock, injection.ms, extra.signal))) return errorText('cancelled');
        return toUpstream(request, extra);
      case 'answer':
      case 'http':
        return failureResult(injection.spec, {
          signal: extra.signal,
          allowExit: false,
          name: 'retrace chaos-proxy',
          clock: options.engine.clock,
        });
      case 'crash':
        upstream.kill();
        options.onCrash();
        // The process is going away: this call never answers.
        return new Promise<Result>(() => undefined);
    }
  }

  const reportResource = {
    uri: REPORT_URI,
    name: 'chaos-report',
    title: 'retrace chaos-proxy report',
    description: 'What the chaos proxy injected so far: tool calls, forwarded, faults per kind and per tool.',
    mimeType: 'application/json',
  };
  function readReport(): Result {
    const text = JSON.stringify(options.engine.report.toJSON(), null, 2);
    return { contents: [{ uri: REPORT_URI, mimeType: 'application/json', text }] };
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await upstream.close();
      await server.close().catch(() => undefined);
    })());
  let ended = (): void => undefined;
  const closed = new Promise<void>((resolve) => (ended = resolve));
  upstream.onLost = (why) => {
    if (closing) return;
    options.onUpstreamLost?.(why);
    void close().then(ended);
  };
  server.onclose = () => void close().then(ended);
  downstream.server = server;
  await server.connect(gate);
  gate.release();
  return { server, upstream, closed, close: () => close().then(ended) };
}

function progressTokenOf(request: Request): string | number | undefined {
  const meta: unknown = request.params?.['_meta'];
  const token: unknown = typeof meta === 'object' && meta !== null ? Reflect.get(meta, 'progressToken') : undefined;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

/** Sends a request of the upstream on to the downstream client, with its cancellation and progress. */
async function forward(
  send: (request: Request, options: RequestOptions) => Promise<Result>,
  request: Request,
  signal: AbortSignal,
  sendProgress: (progress: Progress & { progressToken: string | number }) => Promise<void>,
): Promise<Result> {
  const token = progressTokenOf(request);
  const requestOptions: RequestOptions = { signal, timeout: backstopTimeoutMs };
  let progressSent = Promise.resolve();
  if (token !== undefined) {
    requestOptions.onprogress = (progress) => {
      progressSent = progressSent.then(() => sendProgress({ ...progress, progressToken: token })).catch(() => {});
    };
  }
  try {
    return await send(request, requestOptions);
  } catch (error) {
    throw asJsonRpcFailure(error);
  } finally {
    await progressSent;
  }
}
