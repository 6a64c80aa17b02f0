// What every command needs: the config, a logger, and a runtime built from them.
import { createLogger } from '../../actors/logger.js';
import { createRuntime, type Runtime } from '../../actors/runtime.js';
import { loadConfig } from '../../config/loadConfig.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { GlobalOptions } from '../main.js';
import { createNatsBus } from '../../events/natsBus.js';
import { openStore } from './store.js';

export interface OpenRuntimeOptions {
  config?: RuntimeConfig;
  /** Record every call as a run in the store (--data-dir / --nats); closing the runtime closes the store. */
  record?: boolean;
}

export async function openRuntime(globals: GlobalOptions, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const loaded = options.config ?? (await loadConfig(globals.config === undefined ? {} : { file: globals.config }));
  // Command output owns stdout and the attempt lines own stderr: pino stays quiet unless asked.
  const level = (globals.logLevel ?? 'silent') as 'silent';
  const logger = createLogger({ level, redact: loaded.log.redact });
  if (!options.record) return createRuntime({ config: loaded, logger });
  const store = await openStore(globals);
  // With --nats, every recorded fact is also published live on core NATS, escalations by level.
  const bus = globals.nats === undefined ? undefined : await createNatsBus({ servers: globals.nats });
  const runtime = createRuntime({ config: loaded, logger, store, ...(bus ? { bus } : {}) });
  return {
    ...runtime,
    async close() {
      try {
        await runtime.close();
        await bus?.flush();
      } finally {
        await bus?.close();
        await store.close();
      }
    },
  };
}
