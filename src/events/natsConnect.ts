// Connecting to NATS with a clear error when the server is not there.
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ErrorCode, RetraceError } from '../common/errors.js';

export const DEFAULT_NATS_SERVERS = 'nats://127.0.0.1:4222';

export interface NatsConnectOptions {
  servers: string | string[];
  /** Name shown in the server's connection list. */
  name: string;
  /** Keep reconnecting forever once connected (the bus); a store fails fast instead. */
  reconnectForever?: boolean;
  timeoutMs?: number;
  /** Wait between reconnect attempts. */
  reconnectTimeWaitMs?: number;
}

export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.servers,
      name: options.name,
      timeout: options.timeoutMs ?? 5_000,
      ...(options.reconnectForever === true
        ? { reconnect: true, maxReconnectAttempts: -1, reconnectTimeWait: options.reconnectTimeWaitMs ?? 250 }
        : {}),
    });
  } catch (error) {
    throw new RetraceError(
      ErrorCode.connection,
      `cannot reach NATS at ${String(options.servers)}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
