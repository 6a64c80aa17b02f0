// The metrics surface: the registry behind /metrics and the projections it reads.
export { createMetricsRegistry, type MetricsRegistry, type MetricsRegistryOptions } from './metricsRegistry.js';
export { followStore, type ProjectedFacts } from './projectedFacts.js';
export { projectedBucketBoundsSeconds } from './projectedMetric.js';
export { stateBytesOf } from './stateSizes.js';
