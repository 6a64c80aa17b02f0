// A projection's latency histogram as a Prometheus histogram: exact counts under each bound, sum and count.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ProjectedHistogram, projectedBucketBoundsSeconds } from '../../src/server/metrics/projectedMetric.js';
import { emptyHistogram, recordLatency } from '../../src/store/projections/latencyHistogram.js';
import { parsePrometheusText, sampleKey } from '../support/promText.js';

describe('a projected histogram', () => {
  it('counts the values under each bound exactly, with the sum in seconds', async () => {
    const values = [0, 0.5, 1, 3, 7, 12, 400, 70_000];
    const histogram = values.reduce(recordLatency, emptyHistogram);
    const registry = new Registry();
    new ProjectedHistogram({
      name: 'test_duration_seconds',
      help: 'test',
      labelNames: ['tool'],
      registry,
      read: () => [{ labels: { tool: 't' }, histogram }],
    });
    const samples = parsePrometheusText(await registry.metrics());
    expect(projectedBucketBoundsSeconds.slice(0, 4)).toEqual([0.001, 0.00235795, 0.00459497, 0.00984973]);
    for (const le of projectedBucketBoundsSeconds) {
      const under = values.filter((ms) => ms < le * 1000).length;
      expect([le, samples.get(sampleKey('test_duration_seconds_bucket', { tool: 't', le }))]).toEqual([le, under]);
    }
    expect(samples.get(sampleKey('test_duration_seconds_bucket', { tool: 't', le: '+Inf' }))).toBe(8);
    expect(samples.get(sampleKey('test_duration_seconds_count', { tool: 't' }))).toBe(8);
    expect(samples.get(sampleKey('test_duration_seconds_sum', { tool: 't' }))).toBeCloseTo(70.4235, 6);
  });
});
