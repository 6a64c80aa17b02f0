// `retrace serve`: the runtime on the data dir (as `retrace run` opens it) with /metrics, /healthz and /readyz, until SIGINT/SIGTERM.
import { createLogger } from '../../actors/logger.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { createObservabilityServer } from '../../server/http/observabilityServer.js';
import { addViewerRoutes } from '../../server/viewer/viewerRoutes.js';
import type { GlobalOptions } from '../main.js';
import { commandConfig } from './store.js';
import { openRecordingRuntime } from './shared.js';

export interface ServeOptions {
  port: string;
  host: string;
  /** Required beyond loopback; `RETRACE_TOKEN` when absent. */
  token?: string;
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
  const recording = await openRecordingRuntime(globals, config, undefined, logger);
  let server;
  try {
    server = await createObservabilityServer({
      runtime: recording.runtime,
      store: recording.store,
      bus: recording.bus,
      host: options.host,
      port,
      token: options.token ?? process.env['RETRACE_TOKEN'],
      logger,
    });
  } catch (error) {
    await recording.runtime.close();
    throw error;
  }
  addViewerRoutes(server, recording.store);
  // Listening for the signals before the URL is printed: whoever reads it may signal at once.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stdout.write(`retrace serve: ${server.url} (/runs, /run?id=RUN, /metrics, /healthz, /readyz)\n`);
  const signal = await stopped;
  logger.info({ signal }, 'stopping');
  try {
    await server.close();
  } finally {
    await recording.runtime.close();
  }
  return 0;
}
