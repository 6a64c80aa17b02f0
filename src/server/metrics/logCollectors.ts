// The event log's series of /metrics: append latency and batch size from the file log's write hook, its write counts.
import { Histogram, type Registry } from 'prom-client';
import type { EventStore } from '../../store/eventStore.js';
import type { FileLog } from '../../store/fileLog.js';
import { projectedCounter } from './projectedMetric.js';

type WatchedLog = Pick<FileLog, 'watchWrites' | 'writeStats'>;

/** Whether the store reports its writes (the file log does; JetStream does not). */
export function isWatchedLog(store: EventStore): store is EventStore & WatchedLog {
  return 'watchWrites' in store && typeof store.watchWrites === 'function' && 'writeStats' in store;
}

/** Registers the log's series; returns the disposer of its write hook (nothing to dispose for a store without one). */
export function registerLogMetrics(registry: Registry, store: EventStore): () => void {
  if (!isWatchedLog(store)) return () => undefined;
  const appendSeconds = new Histogram({
    name: 'retrace_log_append_duration_seconds',
    help: 'From an append to the moment its events are durable (group commit: the write and the fsync that covers it)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const batchRecords = new Histogram({
    name: 'retrace_log_batch_records',
    help: 'Records per batch written (one write each; an fsync covers one or more)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  for (const [name, help, field] of [
    ['retrace_log_records_written_total', 'Records written to the file log since it opened', 'records'],
    ['retrace_log_writes_total', 'Batches written (one write each)', 'writes'],
    ['retrace_log_fsyncs_total', 'fsyncs completed', 'syncs'],
  ] as const) {
    projectedCounter({
      name,
      help,
      labelNames: [],
      registry,
      read: () => [{ labels: {}, value: store.writeStats()[field] }],
    });
  }
  return store.watchWrites(({ records, appendLatenciesMs }) => {
    batchRecords.observe(records);
    for (const latencyMs of appendLatenciesMs) appendSeconds.observe(latencyMs / 1000);
  });
}
