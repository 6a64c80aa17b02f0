// The part of `ws` (installed with @statelyai/inspect, which ships no types for it) the inspector relay uses.
declare module 'ws' {
  import type { Server } from 'node:http';

  export class WebSocket {
    static readonly OPEN: number;
    readonly readyState: number;
    send(data: string): void;
    close(): void;
    on(event: 'message', listener: (data: { toString(): string }) => void): this;
    on(event: 'close', listener: () => void): this;
  }

  export class WebSocketServer {
    constructor(options: { server: Server });
    readonly clients: Set<WebSocket>;
    on(event: 'connection', listener: (socket: WebSocket) => void): this;
    close(callback?: () => void): void;
  }
}
