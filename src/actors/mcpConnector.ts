// The McpConnector over real MCP I/O: one lazily opened, shared connection per server, failures returned as data.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Clock } from '../common/clock.js';
import { systemClock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { RawFailure } from '../policy/failure.js';
import type { AttemptOutcome, AttemptRequest, McpConnector, ToolInfo } from './mcpTypes.js';
import type { ServerConfig } from './serverConfig.js';
import { McpConnection } from './mcpConnection.js';
import type { ConnectFailure, ConnectionOptions, SdkCallToolResult } from './mcpConnection.js';
import type { HttpExchange } from './mcpHttpExchange.js';
import { cancelledFailure, exceptionFailure, toolErrorFailure } from './mcpFailure.js';

export interface McpConnectorOptions {
  /** Read at each connection: servers added later (a workflow's own) are found, removed ones refused. */
  servers: Readonly<Record<string, ServerConfig>>;
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

interface Slot {
  connection: McpConnection;
  ready: Promise<ConnectFailure | undefined>;
}

/**
 * One attempt in flight. It settles once, from whichever comes first: the answer, an abort, or a broken
 * HTTP response stream. While its connection opens it listens to the signal itself (`handleEvent`); once
 * the request is out, the SDK's own listener answers an abort by rejecting the call, read here as a cancellation.
 */
class PendingAttempt {
  private done = false;
  private listening = false;
  /** Set while the attempt counts as in flight on its connection. */
  private leased: McpConnection | undefined;
  private exchange: HttpExchange | undefined;

  constructor(
    private readonly request: AttemptRequest,
    private readonly clock: Clock,
    private readonly startedAt: number,
    private readonly resolve: (outcome: AttemptOutcome) => void,
  ) {}

  /** Waits for a connection: an abort settles the attempt at once. */
  listen(): void {
    this.listening = true;
    this.request.signal.addEventListener('abort', this, { once: true });
  }

  /** The signal's abort while no request is out. */
  handleEvent(): void {
    this.cancelled();
  }

  cancelled(): void {
    this.fail(cancelledFailure(this.request.signal.reason));
  }

  send(connection: McpConnection): void {
    // Aborted while the connection was opening: nothing is sent.
    if (this.done) return;
    this.stopListening();
    const { request } = this;
    const exchange = connection.isHttp ? this.observe(connection) : undefined;
    const callOptions: RequestOptions = {
      signal: request.signal,
      timeout: sdkBackstopTimeoutMs,
      resetTimeoutOnProgress: true,
    };
    if (request.onProgress) callOptions.onprogress = progressReporter(request.onProgress);
    this.leased = connection;
    this.exchange = exchange;
    connection.startCall({ name: request.tool, arguments: request.args }, callOptions, exchange).then(
      (result) => this.answered(result),
      (error: unknown) => this.rejected(connection, error),
    );
  }

  fail(failure: RawFailure): void {
    if (this.settle()) this.resolve({ ok: false, failure, startedAt: this.startedAt, finishedAt: this.clock.now() });
  }

  private answered(result: SdkCallToolResult): void {
    this.release();
    if (this.request.signal.aborted) return this.cancelled();
    // The SDK validated the result against CallToolResultSchema; this only tells TypeScript which shape it has.
    if (!isCallToolResult(result)) return this.fail(exceptionFailure(new Error('tools/call returned no content')));
    if (result.isError === true) return this.fail(toolErrorFailure(result));
    if (this.settle()) this.resolve({ ok: true, result, startedAt: this.startedAt, finishedAt: this.clock.now() });
  }

  /** True the first time only. */
  private settle(): boolean {
    if (this.done) return false;
    this.done = true;
    this.stopListening();
    return true;
  }

  private stopListening(): void {
    if (!this.listening) return;
    this.listening = false;
    this.request.signal.removeEventListener('abort', this);
  }

  private rejected(connection: McpConnection, error: unknown): void {
    const exchange = this.exchange;
    this.release();
    // Built even when the attempt is over: classifying the error also retires a connection that is gone.
    const failure = connection.callFailure(error, exchange);
    // The SDK rejects an aborted call with a -32001 timeout; the abort is what happened.
    if (this.request.signal.aborted) this.cancelled();
    else this.fail(failure);
  }

  private release(): void {
    const connection = this.leased;
    if (connection === undefined) return;
    this.leased = undefined;
    connection.endCall(this.exchange);
  }

  /** The HTTP evidence of this attempt; a response stream that ends before the answer settles it early. */
  private observe(connection: McpConnection): HttpExchange {
    return {
      onStreamEnd: ({ error, resumable }) => {
        if (resumable) return;
        // Let the SDK deliver an answer that arrived just before the end; only a call still open has lost it.
        setImmediate(() => {
          if (this.done) return;
          // The SDK keeps waiting for this call; the connection must not wait for it to close.
          this.release();
          this.fail(connection.brokenStreamFailure(error));
        });
      },
    };
  }
}

function isCallToolResult(result: SdkCallToolResult): result is CallToolResult {
  return Array.isArray(result.content);
}

function progressReporter(
  onProgress: NonNullable<AttemptRequest['onProgress']>,
): NonNullable<RequestOptions['onprogress']> {
  return ({ progress, total, message }) =>
    onProgress({
      progress,
      ...(total === undefined ? {} : { total }),
      ...(message === undefined ? {} : { message }),
    });
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

  return {
    callTool(request: AttemptRequest): Promise<AttemptOutcome> {
      try {
        configOf(request.server);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const startedAt = clock.now();
      return new Promise<AttemptOutcome>((resolve) => {
        const attempt = new PendingAttempt(request, clock, startedAt, resolve);
        if (request.signal.aborted) return attempt.cancelled();
        if (closed) {
          const message = `server '${request.server}': the connector is closed`;
          return attempt.fail({ source: 'transport', reason: 'closed', sent: false, message });
        }
        // The common case, an open connection, sends at once instead of after a promise hop.
        const ready = slots.get(request.server)?.connection;
        if (ready?.ready === true) return attempt.send(ready);
        attempt.listen();
        acquire(request.server).then(
          (acquired) => (acquired instanceof McpConnection ? attempt.send(acquired) : attempt.fail(acquired.failure)),
          (error: unknown) => attempt.fail(exceptionFailure(error)),
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
        const failure = acquired.callFailure(error, undefined);
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

    async disconnect(server: string): Promise<void> {
      // Out of the table first, so a call made meanwhile opens a new connection instead of borrowing a closing one.
      slots.delete(server);
      await Promise.all([...live].filter((connection) => connection.server === server).map((c) => c.close()));
    },

    async close(): Promise<void> {
      closed = true;
      slots.clear();
      await Promise.all([...live].map((connection) => connection.close()));
    },
  };
}
