// The per-tool series of /metrics: each read from the tool-metrics projection when scraped.
import type { Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import { EscalationLevel } from '../../policy/escalationLevel.js';
import { breakerTimeOpenMs, type ProjectedToolMetrics } from '../../store/projections/toolMetrics.js';
import { ProjectedHistogram, projectedCounter, projectedGauge, type Sample } from './projectedMetric.js';

type ToolLabel = 'server' | 'tool';
const toolLabels: readonly ToolLabel[] = ['server', 'tool'];

/** The plain counters: metric name, help, and the projection's field. */
const counters: readonly [name: string, help: string, read: (metrics: ProjectedToolMetrics) => number][] = [
  ['retrace_tool_calls_total', 'Attempts made (a short-circuited attempt is not made)', (m) => m.totalCalls],
  ['retrace_tool_retries_total', 'Failed attempts followed by a retry', (m) => m.retries],
  ['retrace_tool_retries_exhausted_total', 'Calls whose retries ran out', (m) => m.retriesExhausted],
  ['retrace_tool_short_circuits_total', 'Attempts the open circuit refused', (m) => m.shortCircuits],
  ['retrace_tool_fallbacks_total', 'Fallbacks started away from this tool', (m) => m.fallbacks],
  ['retrace_tool_cache_hits_total', 'Calls answered from the cache', (m) => m.cacheHits],
  ['retrace_breaker_openings_total', 'Times the circuit opened', (m) => m.breaker.openings],
];

const BREAKER_STATES = ['closed', 'open', 'halfOpen'] as const;

export function registerToolMetrics(
  registry: Registry,
  tools: () => Iterable<ProjectedToolMetrics>,
  clock: Pick<Clock, 'now'>,
): void {
  const each = function* <L extends string>(
    sample: (metrics: ProjectedToolMetrics, labels: Record<ToolLabel, string>) => Iterable<Sample<L | ToolLabel>>,
  ): Iterable<Sample<L | ToolLabel>> {
    for (const metrics of tools()) yield* sample(metrics, { server: metrics.server, tool: metrics.tool });
  };
  for (const [name, help, read] of counters) {
    projectedCounter({
      name,
      help,
      labelNames: toolLabels,
      registry,
      read: () => each((metrics, labels) => [{ labels, value: read(metrics) }]),
    });
  }
  projectedCounter({
    name: 'retrace_tool_errors_total',
    help: 'Failed attempts by failure class and kind',
    labelNames: [...toolLabels, 'class', 'kind'],
    registry,
    read: () =>
      each(function* (metrics, labels) {
        for (const [failureClass, kinds] of Object.entries(metrics.errorsByKind)) {
          for (const [kind, value] of Object.entries(kinds)) {
            yield { labels: { ...labels, class: failureClass, kind }, value };
          }
        }
      }),
  });
  projectedCounter({
    name: 'retrace_tool_escalations_total',
    help: "Escalations by level: a call's own and the runtime's advisories about the tool",
    labelNames: [...toolLabels, 'level'],
    registry,
    read: () =>
      each((metrics, labels) =>
        EscalationLevel.options.map((level) => ({ labels: { ...labels, level }, value: metrics.escalations[level] })),
      ),
  });
  projectedGauge({
    name: 'retrace_breaker_state',
    help: 'The circuit breaker state as recorded: 1 for the current state, 0 for the others',
    labelNames: [...toolLabels, 'state'],
    registry,
    read: () =>
      each((metrics, labels) =>
        BREAKER_STATES.map((state) => ({
          labels: { ...labels, state },
          value: metrics.breaker.state === state ? 1 : 0,
        })),
      ),
  });
  projectedCounter({
    name: 'retrace_breaker_open_seconds_total',
    help: 'Time the circuit was not closed, counting a period under way',
    labelNames: toolLabels,
    registry,
    read: () => each((metrics, labels) => [{ labels, value: breakerTimeOpenMs(metrics.breaker, clock.now()) / 1000 }]),
  });
  new ProjectedHistogram({
    name: 'retrace_tool_attempt_duration_seconds',
    help: 'Duration of the attempts made, failed or not',
    labelNames: toolLabels,
    registry,
    read: function* () {
      for (const metrics of tools()) {
        yield { labels: { server: metrics.server, tool: metrics.tool }, histogram: metrics.latency };
      }
    },
  });
}
