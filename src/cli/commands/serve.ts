// `retrace serve`: a watcher of the data dir's log (read-only, no writer lock) with /metrics, /healthz, /readyz and the
// run viewer, following what `retrace run` and other processes append; `--inspect` feeds their runs to the Stately
// inspector. Until SIGINT/SIGTERM.
import { createLogger } from '../../actors/logger.js';
import type { AttachedInspector } from '../../actors/statelyInspector.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { createObservabilityServer, type ObservabilityServer } from '../../server/http/observabilityServer.js';
import { addViewerRoutes } from '../../server/viewer/viewerRoutes.js';
import { createRecordedInspection } from '../../store/recordedInspection.js';
import type { GlobalOptions } from '../main.js';
import { openInspector } from './inspectOption.js';
import { openWatchedBackends } from './serveWatch.js';
import { chooseBackends, commandConfig } from './store.js';

export interface ServeOptions {
  port: string;
  host: string;
  /** Required beyond loopback; `RETRACE_TOKEN` when absent. */
  token?: string;
  /** `--inspect [port|sky]`: the runs the server sees go to the Stately inspector as their events are appended. */
  inspect?: string | true;
}

export const DEFAULT_SERVE_PORT = 9464;

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new RetraceError(ErrorCode.badArguments, `--port: expected a port number 0-65535, got "${text}"`);
  }
  return port;
}

export async function runServe(options: ServeOptions, globals: GlobalOptions): Promise<number> {
  const port = parsePort(options.port);
  const config = await commandConfig(globals);
  // A server's log is its output: info by default (JSON lines on stderr, human-readable on a TTY), secrets redacted.
  const level = (globals.logLevel ?? 'info') as 'info';
  const logger = createLogger({ level, redact: config.log.redact });
  const backends = chooseBackends(globals, config);
  /** What to close on the way out, last opened first. */
  const opened: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of opened.splice(0).reverse()) {
      await close().catch((error: unknown) => logger.error({ err: error }, 'closing failed'));
    }
  };
  let server: ObservabilityServer;
  try {
    const watched = await openWatchedBackends(backends, logger);
    opened.push(() => watched.close());
    server = await createObservabilityServer({
      store: watched.store,
      readinessChecks: watched.readinessChecks,
      host: options.host,
      port,
      token: options.token ?? process.env['RETRACE_TOKEN'],
      logger,
    });
    opened.push(() => server.close());
    // The projections behind /metrics fold what the watch saw at once, not only at the next scrape.
    watched.watch.onEvents(() => void server.metrics.facts.catchUp());
    if (options.inspect !== undefined) {
      const inspector: AttachedInspector = await openInspector(options.inspect);
      opened.push(() => inspector.close());
      const inspection = createRecordedInspection(inspector.sink);
      watched.watch.onEvents((events) => {
        for (const event of events) inspection.feed(event);
      });
    }
    addViewerRoutes(server, watched.store, { config });
    watched.watch.start();
  } catch (error) {
    await closeAll();
    throw error;
  }
  // Listening for the signals before the URL is printed: whoever reads it may signal at once.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stdout.write(`retrace serve: ${server.url} (/runs, /run?id=RUN, /metrics, /healthz, /readyz)\n`);
  logger.info({ dataDir: backends.dataDir, store: backends.store }, 'watching the log read-only (no writer lock)');
  const signal = await stopped;
  logger.info({ signal }, 'stopping');
  await closeAll();
  return 0;
}
