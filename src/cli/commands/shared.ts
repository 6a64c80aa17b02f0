// What every command needs: the config, a logger, and a runtime built from them.
import type { InspectObserver } from '../../actors/actorInspection.js';
import { createLogger, type Logger } from '../../actors/logger.js';
import { createRuntime, type Runtime } from '../../actors/runtime.js';
import type { RuntimeConfig } from '../../config/runtimeConfig.js';
import type { NatsBus } from '../../events/natsBus.js';
import type { EventStore } from '../../store/eventStore.js';
import type { GlobalOptions } from '../main.js';
import { chooseBackends, commandConfig, openBus, openStore } from './store.js';

export interface OpenRuntimeOptions {
  config?: RuntimeConfig;
  /** Record every call as a run in the store (--data-dir / --store / --nats); closing the runtime closes the store. */
  record?: boolean;
  /** The Stately inspector's observer (`--inspect`), given to every actor of the runtime. */
  inspect?: InspectObserver;
}

/** A runtime recording to the store the flags choose, with that store (to read runs back) and the data directory. */
export interface RecordingRuntime {
  runtime: Runtime;
  store: EventStore;
  dataDir: string;
  /** The bus beside the store when NATS is configured (closed by the runtime's close). */
  bus: NatsBus | undefined;
}

export async function openRuntime(globals: GlobalOptions, options: OpenRuntimeOptions = {}): Promise<Runtime> {
  const loaded = options.config ?? (await commandConfig(globals));
  if (!options.record) return createRuntime({ config: loaded, logger: commandLogger(globals, loaded) });
  return (await openRecordingRuntime(globals, loaded, options.inspect)).runtime;
}

// Command output owns stdout and the attempt lines own stderr: pino stays quiet unless asked.
const commandLogger = (globals: GlobalOptions, config: RuntimeConfig) =>
  createLogger({ level: (globals.logLevel ?? 'silent') as 'silent', redact: config.log.redact });

/** Records every call as a run in the store (--data-dir / --store / --nats); closing the runtime closes the store. */
export async function openRecordingRuntime(
  globals: GlobalOptions,
  config: RuntimeConfig,
  inspect?: InspectObserver,
  logger: Logger = commandLogger(globals, config),
): Promise<RecordingRuntime> {
  const backends = chooseBackends(globals, config);
  const store = await openStore(backends);
  // With NATS configured, every recorded fact is also published on core NATS once durable, escalations by level.
  let bus;
  try {
    bus = await openBus(backends, store);
  } catch (error) {
    await store.close();
    throw error;
  }
  const runtime = createRuntime({
    config,
    logger,
    store,
    dataDir: backends.dataDir,
    ...(bus ? { bus } : {}),
    ...(inspect ? { inspect } : {}),
  });
  return {
    store,
    dataDir: backends.dataDir,
    bus,
    runtime: {
      ...runtime,
      async close() {
        try {
          await runtime.close();
        } finally {
          // The bus waits (bounded) for NATS to confirm, and reads the log to save its cursor: before the store closes.
          await bus?.close();
          await store.close();
        }
      },
    },
  };
}
