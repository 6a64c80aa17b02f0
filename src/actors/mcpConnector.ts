// The McpConnector over real MCP I/O: one lazily opened, shared connection per server, failures returned as data.
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { RawFailure } from '../policy/failure.js';
import type { AttemptOutcome, AttemptRequest, McpConnector, ToolInfo } from './mcpTypes.js';
import type { ServerConfig } from './serverConfig.js';
import { McpConnection } from './mcpConnection.js';
import type { ConnectFailure, ConnectionOptions } from './mcpConnection.js';
import type { HttpExchange } from './mcpHttpExchange.js';
import { withHttpExchange } from './mcpHttpExchange.js';
import { cancelledFailure, exceptionFailure, toolErrorFailure } from './mcpFailure.js';

export interface McpConnectorOptions {
  servers: Record<string, ServerConfig>;
  /** Stamps `startedAt`/`finishedAt`. */
  clock?: Clock;
  clientInfo?: { name: string; version: string };
  /** Real time allowed to spawn or reach a server and complete the handshake (default 30 s). */
  connectTimeoutMs?: number;
}

/**
 * Attempt timeouts belong to the tool-call machine and its clock; the SDK's own timer is only a backstop.
 * A day stays well below setTimeout's 2^31 ms ceiling.
 */
const sdkBackstopTimeoutMs = 24 * 60 * 60 * 1_000;

type Settled = { ok: true; result: AttemptOutcomeResult } | { ok: false; failure: RawFailure };
type AttemptOutcomeResult = Extract<AttemptOutcome, { ok: true }>['result'];

interface Slot {
  connection: McpConnection;
  ready: Promise<ConnectFailure | undefined>;
}

export function createMcpConnector(options: McpConnectorOptions): McpConnector {
  const clock = options.clock ?? systemClock;
  const connectionOptions: ConnectionOptions = {
    clientInfo: options.clientInfo ?? { name: 'retrace', version: '0.1.0' },
    connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
  };
  const slots = new Map<string, Slot>();
  /** Every connection not yet closed, including retired ones still finishing their attempts. */
  const live = new Set<McpConnection>();
  let closed = false;

  function configOf(server: string): ServerConfig {
    const config = Object.hasOwn(options.servers, server) ? options.servers[server] : undefined;
    if (!config) {
      const known = Object.keys(options.servers).join(', ') || 'none';
      throw new RetraceError(ErrorCode.unknownServer, `unknown MCP server '${server}' (configured: ${known})`);
    }
    return config;
  }

  /** The server's live connection, opening one if there is none; concurrent callers share the same opening. */
  async function acquire(server: string): Promise<McpConnection | ConnectFailure> {
    const current = slots.get(server);
    if (current) {
      const failed = await current.ready;
      if (failed) return failed;
      if (current.connection.usable) return current.connection;
      // A retired connection closes itself once its last attempt is done.
      if (slots.get(server) === current) slots.delete(server);
      return acquire(server);
    }
    const connection: McpConnection = new McpConnection(server, configOf(server), connectionOptions, () =>
      live.delete(connection),
    );
    live.add(connection);
    const slot: Slot = { connection, ready: connection.open() };
    slots.set(server, slot);
    const failed = await slot.ready;
    if (failed) {
      // The next attempt tries again rather than inheriting this failure.
      if (slots.get(server) === slot) slots.delete(server);
      return failed;
    }
    if (closed) void connection.close();
    return connection;
  }

  /** Makes one call; `settleEarly` ends the attempt before the SDK does (a broken stream it would wait on forever). */
  async function attempt(request: AttemptRequest, settleEarly: (outcome: () => Settled) => void): Promise<Settled> {
    const acquired = await acquire(request.server);
    if (!(acquired instanceof McpConnection)) return { ok: false, failure: acquired.failure };
    const connection = acquired;
    const release = connection.lease();
    const exchange: HttpExchange = {
      onStreamEnd: ({ error, resumable }) => {
        if (resumable) return;
        // Let the SDK deliver an answer that arrived just before the end; only a call still open has lost it.
        setImmediate(() =>
          settleEarly(() => {
            // The SDK keeps waiting for this call; the connection must not wait for it to close.
            release();
            return { ok: false, failure: connection.brokenStreamFailure(error) };
          }),
        );
      },
    };
    const callOptions: RequestOptions = {
      signal: request.signal,
      timeout: sdkBackstopTimeoutMs,
      resetTimeoutOnProgress: true,
    };
    const onProgress = request.onProgress;
    if (onProgress) {
      callOptions.onprogress = ({ progress, total, message }) =>
        onProgress({
          progress,
          ...(total === undefined ? {} : { total }),
          ...(message === undefined ? {} : { message }),
        });
    }
    try {
      const raw = await withHttpExchange(exchange, () =>
        connection.client.callTool({ name: request.tool, arguments: request.args }, undefined, callOptions),
      );
      const parsed = CallToolResultSchema.safeParse(raw);
      if (!parsed.success) return { ok: false, failure: exceptionFailure(parsed.error) };
      if (parsed.data.isError === true) return { ok: false, failure: toolErrorFailure(parsed.data) };
      return { ok: true, result: parsed.data };
    } catch (error) {
      return { ok: false, failure: connection.callFailure(error, exchange) };
    } finally {
      release();
    }
  }

  return {
    callTool(request: AttemptRequest): Promise<AttemptOutcome> {
      try {
        configOf(request.server);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const startedAt = clock.now();
      return new Promise<AttemptOutcome>((resolve) => {
        let done = false;
        const onAbort = (): void => settle({ ok: false, failure: cancelledFailure(request.signal.reason) });
        function settle(outcome: Settled): void {
          if (done) return;
          done = true;
          request.signal.removeEventListener('abort', onAbort);
          resolve({ ...outcome, startedAt, finishedAt: clock.now() });
        }
        if (request.signal.aborted) return onAbort();
        if (closed) {
          const message = `server '${request.server}': the connector is closed`;
          return settle({ ok: false, failure: { source: 'transport', reason: 'closed', sent: false, message } });
        }
        // The SDK reports an abort as a -32001 timeout; the listener settles first so it reads as a cancellation.
        request.signal.addEventListener('abort', onAbort, { once: true });
        const settleEarly = (outcome: () => Settled): void => {
          if (!done) settle(outcome());
        };
        attempt(request, settleEarly).then(settle, (error: unknown) =>
          settle({ ok: false, failure: exceptionFailure(error) }),
        );
      });
    },

    async listTools(server: string): Promise<ToolInfo[]> {
      configOf(server);
      if (closed) throw new RetraceError(ErrorCode.closed, `server '${server}': the connector is closed`);
      const acquired = await acquire(server);
      if (!(acquired instanceof McpConnection)) {
        throw new RetraceError(ErrorCode.connection, acquired.message, { cause: acquired.cause });
      }
      try {
        return await acquired.listTools();
      } catch (error) {
        const failure = acquired.callFailure(error, {});
        const detail = 'message' in failure ? failure.message : failure.text;
        throw new RetraceError(
          ErrorCode.connection,
          `server '${server}' (${acquired.target}): tools/list failed: ${detail}`,
          {
            cause: error,
          },
        );
      }
    },

    async close(): Promise<void> {
      closed = true;
      slots.clear();
      await Promise.all([...live].map((connection) => connection.close()));
    },
  };
}
