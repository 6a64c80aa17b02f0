// A local relay for the Stately inspector on 127.0.0.1: the run's inspector and the browser page meet on its WebSocket.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface InspectorRelay {
  /** The page to open: it embeds Stately's inspector (loaded from stately.ai) and feeds it from the relay. */
  pageUrl: string;
  /** Where inspectors send and viewers receive. */
  webSocketUrl: string;
  /** Resolves once a client is connected (the run's inspector: then nothing it sends is held back). */
  connected(): Promise<void>;
  /** Waits for the clients that sent events to hang up (all they sent is relayed), then stops. */
  close(): Promise<void>;
}

/** The last inspection events, sent to a viewer that connects late. */
const REPLAYED_TO_LATE_VIEWERS = 1_000;

/**
 * Every message a client sends goes to every other client, and the last ones to each client that connects
 * (what @statelyai/inspect's own server does; that one listens on every interface and opens a browser).
 */
export async function startInspectorRelay(options: { port?: number } = {}): Promise<InspectorRelay> {
  const recent: string[] = [];
  const publishers = new Set<WebSocket>();
  const waiters = { connected: [] as Array<() => void>, quiet: [] as Array<() => void> };
  let connections = 0;
  const wake = (list: Array<() => void>) => list.splice(0).forEach((resolve) => resolve());
  let webSocketUrl = '';
  const http = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(bridgePage(webSocketUrl));
  });
  const sockets = new WebSocketServer({ server: http });
  sockets.on('connection', (socket) => {
    connections++;
    wake(waiters.connected);
    for (const message of recent) socket.send(message);
    socket.on('close', () => {
      publishers.delete(socket);
      if (publishers.size === 0) wake(waiters.quiet);
    });
    socket.on('message', (data) => {
      publishers.add(socket);
      const message = data.toString();
      recent.push(message);
      if (recent.length > REPLAYED_TO_LATE_VIEWERS) recent.shift();
      for (const client of sockets.clients) {
        if (client !== socket && client.readyState === WebSocket.OPEN) client.send(message);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  webSocketUrl = `ws://127.0.0.1:${port}`;
  return {
    pageUrl: `http://127.0.0.1:${port}/`,
    webSocketUrl,
    connected: () =>
      connections > 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.connected.push(resolve)),
    close: async () => {
      if (publishers.size > 0) await new Promise<void>((resolve) => waiters.quiet.push(resolve));
      await new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.close();
        sockets.close(() => http.close(() => resolve()));
        http.closeAllConnections();
      });
    },
  };
}

function bridgePage(webSocketUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>retrace — Stately inspector</title>
<style>html,body,iframe{margin:0;height:100%;width:100%;border:0}</style></head>
<body><iframe id="inspector" src="https://stately.ai/inspect"></iframe>
<script>
const iframe = document.getElementById('inspector');
const waiting = [];
let connected = false;
window.addEventListener('message', (event) => {
  if (event.data && event.data.type === '@statelyai.connected') {
    connected = true;
    for (const data of waiting.splice(0)) iframe.contentWindow.postMessage(data, '*');
  }
});
const socket = new WebSocket(${JSON.stringify(webSocketUrl)});
socket.onmessage = (event) => {
  const data = JSON.parse(event.data);
  if (connected) iframe.contentWindow.postMessage(data, '*');
  else waiting.push(data);
};
</script></body></html>
`;
}
