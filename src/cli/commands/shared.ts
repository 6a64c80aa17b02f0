// What every command needs: the config, a logger, and a runtime built from them.
import { createLogger } from '../../actors/logger.js';
import { createRuntime, type Runtime } from '../../actors/runtime.js';
import { loadConfig } from '../../config/loadConfig.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { GlobalOptions } from '../main.js';

export async function openRuntime(globals: GlobalOptions, config?: RuntimeConfig): Promise<Runtime> {
  const loaded = config ?? (await loadConfig(globals.config === undefined ? {} : { file: globals.config }));
  // Command output owns stdout and the attempt lines own stderr: pino stays quiet unless asked.
  const level = (globals.logLevel ?? 'silent') as 'silent';
  return createRuntime({ config: loaded, logger: createLogger({ level, redact: loaded.log.redact }) });
}
