// Per-request HTTP evidence for the Streamable HTTP transport: status and headers, and a broken response stream.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';

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
  /** The response to the last POST of a JSON-RPC request made within this exchange. */
  response?: HttpResponseSeen;
  /** Called when the SSE body answering such a POST ends or breaks. */
  onStreamEnd?: (end: StreamEnd) => void;
}

const exchangeStorage = new AsyncLocalStorage<HttpExchange>();

/** Runs `work` so that every fetch it causes reports to `exchange`; concurrent exchanges never see each other's responses. */
export function withHttpExchange<T>(exchange: HttpExchange, work: () => Promise<T>): Promise<T> {
  return exchangeStorage.run(exchange, work);
}

/** A `fetch` for the SDK transport that records responses into the current exchange. */
export function createCapturingFetch(baseFetch: FetchLike = fetch): FetchLike {
  return async (url, init) => {
    const exchange = exchangeStorage.getStore();
    const response = await baseFetch(url, init);
    if (!exchange || init?.method !== 'POST' || !carriesRequest(init.body)) return response;
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

/** Whether a POST body is a JSON-RPC request (it expects an answer), not a notification or a response. */
function carriesRequest(body: RequestInit['body']): boolean {
  if (typeof body !== 'string') return false;
  try {
    const message: unknown = JSON.parse(body);
    return typeof message === 'object' && message !== null && 'method' in message && 'id' in message;
  } catch {
    return false;
  }
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
