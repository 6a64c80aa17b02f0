// One connection to a configured MCP server: the SDK client, its transport, and what is known about its health.
import type { ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { StreamableHTTPClientTransportOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RawFailure } from '../policy/failure.js';
import type { ToolInfo } from './mcpTypes.js';
import { describeServer, isStdioServer } from './serverConfig.js';
import type { ServerConfig } from './serverConfig.js';
import { ObservedHttpTransport } from './mcpHttpExchange.js';
import type { HttpExchange } from './mcpHttpExchange.js';
import {
  describeError,
  describeReason,
  errnoOf,
  exceptionFailure,
  transportFailureFromErrno,
  type TransportFailure,
} from './mcpFailure.js';
import { ObservedStdioTransport, StderrTail, stopChildProcess } from './mcpProcess.js';
import { toToolInfo } from './mcpToolInfo.js';

export interface ConnectionOptions {
  clientInfo: { name: string; version: string };
  /** Real time allowed for spawning/reaching the server and the MCP handshake. */
  connectTimeoutMs: number;
}

/** Why a connection could not be opened: the evidence for an attempt, and one line for a person. */
export interface ConnectFailure {
  failure: RawFailure;
  message: string;
  cause: unknown;
}

/** What the SDK's `callTool` resolves to (a union that also admits a legacy result shape). */
export type SdkCallToolResult = Awaited<ReturnType<Client['callTool']>>;

export class McpConnection {
  readonly client: Client;
  /** How a person recognises the server: its command line or its URL. */
  readonly target: string;
  private readonly transport: ObservedStdioTransport | ObservedHttpTransport;
  private readonly stderr = new StderrTail(20);
  private child: ChildProcess | undefined;
  private spawnError: Error | undefined;
  private exit: { exitCode: number | null; signal: NodeJS.Signals | null } | undefined;
  private transportClosed = false;
  /** Closed by its owner: calls cut off by it are not blamed on the server. */
  private closedByCaller = false;
  private retired = false;
  private opened = false;
  private inFlight = 0;
  private closing: Promise<void> | undefined;
  private tools: Promise<ToolInfo[]> | undefined;

  constructor(
    readonly server: string,
    config: ServerConfig,
    private readonly options: ConnectionOptions,
    private readonly onClosed: () => void = () => undefined,
  ) {
    this.client = new Client(options.clientInfo, { capabilities: {} });
    this.client.onclose = () => {
      this.transportClosed = true;
      this.retire();
    };
    // The standalone event stream often learns first that the server forgot the session.
    this.client.onerror = (error) => {
      if (error instanceof StreamableHTTPError && error.code === 404 && this.sessionId !== undefined) this.retire();
    };
    this.target = describeServer(config);
    if (isStdioServer(config)) {
      const transport = new ObservedStdioTransport({
        command: config.command,
        args: config.args,
        stderr: 'pipe',
        ...(config.env ? { env: config.env } : {}),
        ...(config.cwd ? { cwd: config.cwd } : {}),
      });
      transport.stderr?.on('data', (chunk: Buffer | string) => this.stderr.push(chunk));
      transport.onSpawn = (child) => {
        this.child = child;
        child.once('error', (error) => (this.spawnError = error));
        child.once('exit', (exitCode, signal) => (this.exit = { exitCode, signal }));
      };
      this.transport = transport;
    } else {
      const url = new URL(config.url);
      const httpOptions: StreamableHTTPClientTransportOptions = {};
      if (config.headers) httpOptions.requestInit = { headers: config.headers };
      this.transport = new ObservedHttpTransport(url, httpOptions);
    }
  }

  /** False once the transport closed or a failure showed the connection (process, session) is gone. */
  get usable(): boolean {
    return !this.transportClosed && !this.retired;
  }

  /** Opened and still usable: calls can go out at once. */
  get ready(): boolean {
    return this.opened && this.usable;
  }

  /** Over HTTP an attempt passes an HttpExchange to learn response headers and broken streams. */
  get isHttp(): boolean {
    return this.transport instanceof ObservedHttpTransport;
  }

  get sessionId(): string | undefined {
    return this.transport instanceof ObservedHttpTransport ? this.transport.sessionId : undefined;
  }

  /** Spawns or reaches the server and performs the MCP handshake. */
  async open(): Promise<ConnectFailure | undefined> {
    const exchange: HttpExchange = {};
    const transport = this.transport;
    // The handshake's initialize is the only request sent while connecting.
    if (transport instanceof ObservedHttpTransport) transport.expect(exchange);
    try {
      await this.client.connect(transport, { timeout: this.options.connectTimeoutMs });
      this.opened = true;
      return undefined;
    } catch (error) {
      const failed = this.connectFailure(error, exchange);
      this.retire();
      return failed;
    } finally {
      if (transport instanceof ObservedHttpTransport) transport.forget(exchange);
    }
  }

  /**
   * Sends tools/call and counts it in flight until `endCall`. Over HTTP, the request's responses are
   * reported to `exchange`.
   */
  startCall(
    params: CallToolRequest['params'],
    options: RequestOptions,
    exchange?: HttpExchange,
  ): Promise<SdkCallToolResult> {
    this.inFlight++;
    const transport = this.transport;
    if (exchange === undefined || !(transport instanceof ObservedHttpTransport)) {
      return this.client.callTool(params, undefined, options);
    }
    transport.expect(exchange);
    try {
      return this.client.callTool(params, undefined, options);
    } finally {
      // The request went out synchronously, unless the SDK refused it first (an aborted signal).
      transport.stopExpecting(exchange);
    }
  }

  /** Once per `startCall`; a retired connection closes when its last call has ended. */
  endCall(exchange?: HttpExchange): void {
    if (exchange !== undefined && this.transport instanceof ObservedHttpTransport) this.transport.forget(exchange);
    this.inFlight--;
    if (this.retired && this.inFlight === 0) void this.shutdown();
  }

  /** No new attempts go here; the connection closes once idle. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) void this.shutdown();
  }

  async listTools(): Promise<ToolInfo[]> {
    this.tools ??= this.fetchTools();
    try {
      return await this.tools;
    } catch (error) {
      this.tools = undefined;
      throw error;
    }
  }

  /** The evidence for an attempt whose call rejected with `error`. */
  callFailure(error: unknown, exchange: HttpExchange | undefined): RawFailure {
    if (error instanceof McpError) {
      if (error.code === ErrorCode.ConnectionClosed && this.transportClosed) return this.lostFailure();
      const failure: RawFailure = { source: 'rpc', code: error.code, message: error.message };
      return error.data === undefined ? failure : { ...failure, data: error.data };
    }
    if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
      const sessionId = this.sessionId;
      if (error.code === 404 && sessionId !== undefined) {
        this.retire();
        return {
          source: 'transport',
          reason: 'closed',
          sent: false,
          message: `server '${this.server}' (${this.target}) no longer knows session ${sessionId} (HTTP 404); the next attempt opens a new session`,
        };
      }
      const seen = exchange?.response?.status === error.code ? exchange.response.headers : {};
      return { source: 'http', status: error.code, headers: seen, message: error.message };
    }
    const errno = errnoOf(error);
    if (errno !== undefined) {
      this.retire();
      return transportFailureFromErrno(
        errno,
        `server '${this.server}' (${this.target}): ${describeError(error)}`,
        true,
      );
    }
    if (error instanceof Error && error.message === 'Not connected') {
      this.retire();
      return { source: 'transport', reason: 'closed', sent: false, message: `server '${this.server}': not connected` };
    }
    return exceptionFailure(error);
  }

  /** The evidence when the response stream of an attempt broke or ended before its answer arrived. */
  brokenStreamFailure(error: unknown): TransportFailure {
    this.retire();
    const where = `server '${this.server}' (${this.target})`;
    if (error === undefined) {
      const message = `${where}: the response stream ended before the result arrived`;
      return { source: 'transport', reason: 'closed', sent: true, message };
    }
    const message = `${where}: the response stream broke before the result arrived: ${describeError(error)}`;
    const errno = errnoOf(error);
    return errno === undefined
      ? { source: 'transport', reason: 'reset', sent: true, message }
      : { ...transportFailureFromErrno(errno, message, true), sent: true };
  }

  /** Closes the client and makes sure a stdio child is gone (stdin closed, then SIGTERM, then SIGKILL). */
  close(): Promise<void> {
    this.closedByCaller = true;
    return this.shutdown();
  }

  private shutdown(): Promise<void> {
    this.retired = true;
    this.closing ??= (async () => {
      const transport = this.transport;
      if (transport instanceof ObservedHttpTransport && !this.transportClosed && transport.sessionId) {
        // Best effort: a server that does not answer the DELETE promptly is left to expire the session itself.
        await Promise.race([
          transport.terminateSession().catch(() => undefined),
          delay(1_000, undefined, { ref: false }),
        ]);
      }
      if (this.child) await stopChildProcess(this.child);
      await this.client.close().catch(() => undefined);
      this.onClosed();
    })();
    return this.closing;
  }

  private async fetchTools(): Promise<ToolInfo[]> {
    const tools: ToolInfo[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      if (++pages > 100) throw new Error('tools/list: more than 100 pages');
      const page = await this.client.listTools(cursor === undefined ? {} : { cursor }, {
        timeout: this.options.connectTimeoutMs,
      });
      tools.push(...page.tools.map(toToolInfo));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  }

  /** A call lost with its connection: the process died, or the transport closed under it. */
  private lostFailure(): TransportFailure {
    const failure = this.describeLoss();
    this.retire();
    return failure;
  }

  private describeLoss(): TransportFailure {
    const stderr = this.stderr.lines();
    const tail = stderr.length > 0 ? `\nlast stderr lines:\n${stderr.join('\n')}` : '';
    if (this.closedByCaller) {
      const message = `server '${this.server}' (${this.target}): the connection was closed by retrace during the call`;
      return { source: 'transport', reason: 'closed', sent: true, message };
    }
    if (this.exit) {
      const how = this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit.exitCode}`;
      return {
        source: 'transport',
        reason: 'exited',
        sent: true,
        exitCode: this.exit.exitCode,
        signal: this.exit.signal,
        message: `server '${this.server}' (${this.target}) ${how} during the call${tail}`,
      };
    }
    return {
      source: 'transport',
      reason: 'closed',
      sent: true,
      message: `server '${this.server}' (${this.target}): connection closed during the call${tail}`,
    };
  }

  private connectFailure(error: unknown, exchange: HttpExchange): ConnectFailure {
    const where = `server '${this.server}' (${this.target})`;
    if (this.closedByCaller) {
      const message = `${where}: closed by retrace while connecting`;
      return { failure: { source: 'transport', reason: 'closed', sent: false, message }, message, cause: error };
    }
    if (this.spawnError) {
      const errno = errnoOf(this.spawnError) ?? 'ENOENT';
      const message = `${where}: cannot start the command: ${describeError(this.spawnError)}`;
      return { failure: transportFailureFromErrno(errno, message, false), message, cause: error };
    }
    if (this.exit) {
      const how = this.exit.signal ? `was killed by ${this.exit.signal}` : `exited with code ${this.exit.exitCode}`;
      const hint = this.stderr.mostTelling();
      const message = `${where} ${how} during start-up${hint ? `; stderr: ${hint}` : ''}`;
      const stderr = this.stderr.lines();
      const failure: TransportFailure = {
        source: 'transport',
        reason: 'exited',
        sent: false,
        exitCode: this.exit.exitCode,
        signal: this.exit.signal,
        message: stderr.length > 0 ? `${message}\nlast stderr lines:\n${stderr.join('\n')}` : message,
      };
      return { failure, message, cause: error };
    }
    if (error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0) {
      const headers = exchange.response?.status === error.code ? exchange.response.headers : {};
      const message = `${where}: HTTP ${error.code} while connecting: ${error.message}`;
      return {
        failure: { source: 'http', status: error.code, headers, message: error.message },
        message,
        cause: error,
      };
    }
    const errno = errnoOf(error);
    if (errno !== undefined) {
      const failure = transportFailureFromErrno(errno, `${where}: ${describeError(error)}`, false);
      const message = `${where}: cannot connect: ${describeReason(failure.reason)} (${errno})`;
      return { failure, message, cause: error };
    }
    if (error instanceof McpError) {
      const message = `${where}: the MCP handshake failed: ${error.message}`;
      return { failure: { source: 'rpc', code: error.code, message: error.message }, message, cause: error };
    }
    const message = `${where}: cannot connect: ${describeError(error)}`;
    return { failure: exceptionFailure(error), message, cause: error };
  }
}
