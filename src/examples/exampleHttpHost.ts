// The example server over Streamable HTTP on the flaky server's host, which also injects HTTP faults (statuses, drops, resets).
import { startFlakyHttpServer, type FlakyHttpServer } from '../testing/flakyHttpHost.js';
import { createExampleServer, type ExampleHost } from './exampleServer.js';

export function startExampleHttpServer(
  host: ExampleHost,
  options: { port?: number; host?: string } = {},
): Promise<FlakyHttpServer> {
  return startFlakyHttpServer({
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    control: host.faults,
    allowExit: host.allowExit,
    createServer: () => createExampleServer(host),
  });
}
