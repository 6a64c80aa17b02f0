// Per-request HTTP evidence for the Streamable HTTP transport: status and headers, and a broken response stream.
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { StreamableHTTPClientTransportOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

export interface HttpResponseSeen {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
}

export interface StreamEnd {
  /** Undefined when the stream ended cleanly. */
  error: unknown;
  /** The server sent SSE event ids, so the SDK resumes the stream itself. */
  resumable: boolean;
}

/**
 * What one logical exchange (an attempt, or opening a connection) saw over HTTP. The SDK's error carries the
 * status but not the headers, and the SDK never notices an SSE response that breaks before the answer arrives.
 */
export interface HttpExchange {
  /** The response to the last POST of the exchange's JSON-RPC request. */
  response?: HttpResponseSeen;
  /** Called when the SSE body answering such a POST ends or breaks. */
  onStreamEnd?: (end: StreamEnd) => void;
}

/**
 * Which exchange each JSON-RPC request belongs to, keyed by the request's id. Keying by id rather than by
 * async context (AsyncLocalStorage) keeps promise hooks off, which would slow every await in the process.
 */
class ExchangeBook {
  /** Waiting for the next request sent on the transport. */
  expected: HttpExchange | undefined;
  private readonly byRequestId = new Map<RequestId, HttpExchange>();
  private readonly idByExchange = new Map<HttpExchange, RequestId>();

  bind(id: RequestId, exchange: HttpExchange): void {
    this.byRequestId.set(id, exchange);
    this.idByExchange.set(exchange, id);
  }

  forget(exchange: HttpExchange): void {
    if (this.expected === exchange) this.expected = undefined;
    const id = this.idByExchange.get(exchange);
    if (id === undefined) return;
    this.idByExchange.delete(exchange);
    this.byRequestId.delete(id);
  }

  /** The exchange of the JSON-RPC request a POST body carries; notifications and responses have none. */
  exchangeOf(body: RequestInit['body']): HttpExchange | undefined {
    if (this.byRequestId.size === 0 || typeof body !== 'string') return undefined;
    const id = requestIdOf(body);
    return id === undefined ? undefined : this.byRequestId.get(id);
  }
}

/** The SDK's Streamable HTTP transport, reporting each POST's response to the exchange of the request it carries. */
export class ObservedHttpTransport extends StreamableHTTPClientTransport {
  private readonly book: ExchangeBook;

  constructor(url: URL, options: StreamableHTTPClientTransportOptions = {}) {
    const book = new ExchangeBook();
    super(url, { ...options, fetch: createCapturingFetch(book, options.fetch) });
    this.book = book;
  }

  /**
   * The next JSON-RPC request sent belongs to `exchange`. The SDK sends a request synchronously inside
   * `client.callTool()`, and only the handshake's request while connecting, so "next" is exact.
   */
  expect(exchange: HttpExchange): void {
    this.book.expected = exchange;
  }

  /** Undoes `expect` if no request has claimed the exchange. */
  stopExpecting(exchange: HttpExchange): void {
    if (this.book.expected === exchange) this.book.expected = undefined;
  }

  /** The exchange is over: its request's responses are no longer recorded. */
  forget(exchange: HttpExchange): void {
    this.book.forget(exchange);
  }

  override send(
    message: JSONRPCMessage,
    options?: Parameters<StreamableHTTPClientTransport['send']>[1],
  ): Promise<void> {
    const expected = this.book.expected;
    const id = expected === undefined ? undefined : requestIdIn(message);
    if (expected !== undefined && id !== undefined) {
      this.book.expected = undefined;
      this.book.bind(id, expected);
    }
    return super.send(message, options);
  }
}

/** A `fetch` for the SDK transport that records the responses to POSTed requests into their exchanges. */
function createCapturingFetch(book: ExchangeBook, baseFetch: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const response = await baseFetch(url, init);
    if (init?.method !== 'POST') return response;
    const exchange = book.exchangeOf(init.body);
    if (!exchange) return response;
    exchange.response = { status: response.status, headers: headersToRecord(response.headers) };
    const onStreamEnd = exchange.onStreamEnd;
    const isEventStream = response.headers.get('content-type')?.toLowerCase().startsWith('text/event-stream') === true;
    if (!onStreamEnd || !response.ok || !response.body || !isEventStream) return response;
    return new Response(observeStream(response.body, onStreamEnd), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

export function headersToRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => {
    record[name.toLowerCase()] = value;
  });
  return record;
}

/** The id of the JSON-RPC request (it expects an answer) in a POST body; undefined for a notification or a response. */
function requestIdOf(body: string): RequestId | undefined {
  try {
    return requestIdIn(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/** A request has a method and an id; the SDK's own guard runs a zod parse, more than this needs. */
function requestIdIn(message: unknown): RequestId | undefined {
  if (typeof message !== 'object' || message === null || !('method' in message) || !('id' in message)) return undefined;
  const id = message.id;
  return typeof id === 'string' || typeof id === 'number' ? id : undefined;
}

/** Passes a body through unchanged and reports how it ended. */
function observeStream(body: ReadableStream<Uint8Array>, onEnd: (end: StreamEnd) => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let resumable = false;
  let tail = '';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          onEnd({ error: undefined, resumable });
          controller.close();
          return;
        }
        if (!resumable) {
          const text = tail + decoder.decode(value, { stream: true });
          resumable = /(^|\n)id:/.test(text);
          tail = text.slice(-4);
        }
        controller.enqueue(value);
      } catch (error) {
        onEnd({ error, resumable });
        controller.error(error);
      }
    },
    async cancel(reason) {
      await reader.cancel(reason);
    },
  });
}
