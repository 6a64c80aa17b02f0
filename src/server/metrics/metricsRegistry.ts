// The prom-client registry behind /metrics: projections of the log (tools, workflows), the log's writes, the process.
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import type { EventStore } from '../../store/eventStore.js';
import { registerLogMetrics } from './logCollectors.js';
import { followStore, type ProjectedFacts } from './projectedFacts.js';
import { projectedCounter } from './projectedMetric.js';
import { registerToolMetrics } from './toolCollectors.js';
import { registerWorkflowMetrics } from './workflowCollectors.js';

export interface MetricsRegistryOptions {
  store: EventStore;
  /** The clock the events are stamped by (a breaker's time open counts to its now). */
  clock: Pick<Clock, 'now'>;
  /** Process memory, CPU, event-loop lag (prom-client's default metrics, `monitorEventLoopDelay`); on by default. */
  processMetrics?: boolean;
}

export interface MetricsRegistry {
  readonly registry: Registry;
  readonly facts: ProjectedFacts;
  /** The Prometheus text exposition, once the events appended since the last scrape are folded. */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

export function createMetricsRegistry(options: MetricsRegistryOptions): MetricsRegistry {
  const registry = new Registry();
  const facts = followStore(options.store);
  registerToolMetrics(registry, () => facts.tools(), options.clock);
  registerWorkflowMetrics(registry, facts);
  const unwatch = registerLogMetrics(registry, options.store);
  projectedCounter({
    name: 'retrace_events_projected_total',
    help: 'Events of the log folded into the projections behind these metrics',
    labelNames: [],
    registry,
    read: () => [{ labels: {}, value: facts.eventsFolded() }],
  });
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    facts,
    async scrape() {
      await facts.catchUp();
      return registry.metrics();
    },
    async close() {
      unwatch();
      await facts.close();
    },
  };
}
