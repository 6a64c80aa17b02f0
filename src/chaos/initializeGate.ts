// Holds a server transport until the client's `initialize` arrives, so the proxy can first open its upstream with
// the client's own name and capabilities, then answer with what the upstream offers.
import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest, isJSONRPCRequest } from '@modelcontextprotocol/sdk/types.js';
import type {
  InitializeRequest,
  JSONRPCMessage,
  MessageExtraInfo,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

interface Held {
  message: JSONRPCMessage;
  extra: MessageExtraInfo | undefined;
}

export class InitializeGate implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** The `initialize` request and whatever followed it before the server was connected, in order. */
  private readonly held: Held[] = [];
  private initialized = false;
  private open = false;

  constructor(private readonly inner: Transport) {}

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  /**
   * Starts the inner transport and resolves with the first `initialize` request (with its id); requests before it
   * are refused, notifications dropped, messages after it held for the server. Rejects when the transport closes first.
   */
  waitForInitialize(): Promise<{ id: RequestId; params: InitializeRequest['params'] }> {
    return new Promise((resolve, reject) => {
      // The HTTP session router's own onclose (forget the session) keeps running.
      const previousOnClose = this.inner.onclose;
      this.inner.onclose = () => {
        previousOnClose?.();
        if (this.open) this.onclose?.();
        else reject(new Error('the client closed the connection before it initialized'));
      };
      this.inner.onerror = (error) => this.onerror?.(error);
      this.inner.onmessage = (message, extra) => {
        if (this.open) return this.onmessage?.(message, extra);
        if (this.initialized) {
          this.held.push({ message, extra });
        } else if (isInitializeRequest(message) && isJSONRPCRequest(message)) {
          this.initialized = true;
          this.held.push({ message, extra });
          resolve({ id: message.id, params: message.params });
        } else if (isJSONRPCRequest(message)) {
          void this.reject(message.id, -32600, 'Bad Request: Server not initialized');
        }
      };
      this.inner.start().catch(reject);
    });
  }

  /** Refuses a request (the held `initialize` when the upstream could not be opened). */
  reject(id: RequestId, code: number, message: string): Promise<void> {
    return this.inner.send({ jsonrpc: '2.0', id, error: { code, message } }).catch(() => undefined);
  }

  /** The MCP server connected (so `onmessage` is its own): hand it the held `initialize` and everything after. */
  release(): void {
    this.open = true;
    for (const { message, extra } of this.held.splice(0)) this.onmessage?.(message, extra);
  }

  /** Already started by `waitForInitialize`. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }
}
