// The chaos proxy's upstream: an SDK client to the real server (a stdio child spawned from an args array, or a
// Streamable HTTP URL), opened with the downstream client's own name and capabilities.
import type { ChildProcess } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { isJSONRPCNotification } from '@modelcontextprotocol/sdk/types.js';
import type { InitializeRequest, ProgressNotification } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../actors/mcpFailure.js';
import { ObservedStdioTransport, hasExited, stopChildProcess } from '../actors/mcpProcess.js';
import { describeServer, isStdioServer, type ServerConfig } from '../actors/serverConfig.js';

export interface Upstream {
  client: Client;
  /** The command line or URL, for messages. */
  target: string;
  /**
   * Sees each progress notification of the upstream as it arrives, before the SDK client handles the messages
   * after it (the client hands notifications on a tick later than responses, so the last progress of a call
   * would otherwise come after its answer).
   */
  onProgress?: (params: ProgressNotification['params']) => void;
  /** Set when the upstream went away (its process exited, its transport closed) without the proxy closing it. */
  onLost?: (why: string) => void;
  /** SIGKILLs a stdio upstream (the `crash` fault); false for an HTTP upstream. */
  kill(): boolean;
  /** Closes the client; a stdio child gets stdin closed, then SIGTERM, then SIGKILL. */
  close(): Promise<void>;
}

/** Real time allowed to spawn or reach the upstream and complete its handshake. */
const connectTimeoutMs = 30_000;

/**
 * Opens the upstream as the downstream client asked to be opened (its clientInfo and capabilities); `prepare` sets
 * the client's handlers before the handshake, when the upstream may already send requests.
 */
export async function openUpstream(
  config: ServerConfig,
  init: InitializeRequest['params'],
  prepare: (client: Client) => void,
): Promise<Upstream> {
  const client = new Client(init.clientInfo, { capabilities: init.capabilities });
  prepare(client);
  const target = describeServer(config);
  let child: ChildProcess | undefined;
  let closing = false;
  const upstream: Upstream = {
    client,
    target,
    kill() {
      if (!child || hasExited(child)) return false;
      child.kill('SIGKILL');
      return true;
    },
    async close() {
      closing = true;
      if (child) await stopChildProcess(child);
      await client.close().catch(() => undefined);
    },
  };
  let transport: ObservedStdioTransport | StreamableHTTPClientTransport;
  if (isStdioServer(config)) {
    const stdio = new ObservedStdioTransport({
      command: config.command,
      args: config.args,
      stderr: 'inherit',
      ...(config.env ? { env: config.env } : {}),
      ...(config.cwd ? { cwd: config.cwd } : {}),
    });
    stdio.onSpawn = (spawned) => {
      child = spawned;
      spawned.once('exit', (code, signal) => {
        if (!closing) upstream.onLost?.(signal ? `was killed by ${signal}` : `exited with code ${code}`);
      });
    };
    transport = stdio;
  } else {
    transport = new StreamableHTTPClientTransport(new URL(config.url), {
      ...(config.headers ? { requestInit: { headers: config.headers } } : {}),
    });
  }
  // The SDK client calls a transport's own onmessage first, synchronously, for every message.
  transport.onmessage = (message) => {
    if (isJSONRPCNotification(message) && message.method === 'notifications/progress') {
      upstream.onProgress?.(message.params as ProgressNotification['params']);
    }
  };
  client.onclose = () => {
    if (!closing) upstream.onLost?.('closed the connection');
  };
  try {
    await client.connect(transport, { timeout: connectTimeoutMs });
  } catch (error) {
    await upstream.close();
    throw new Error(`cannot open the upstream server (${target}): ${describeError(error)}`, { cause: error });
  }
  return upstream;
}
