// The seed's ERROR_METRICS per tool, plus the two cross-call escalation triggers (>N failures in a window, error rate).
import { EscalationTrigger } from '../policy/escalation.js';
import type { EscalationLevel } from '../policy/escalationLevel.js';
import type { ClassifiedFailure } from '../policy/failure.js';
import { initialToolMetrics, type ProjectedToolMetrics } from '../store/projections/toolMetrics.js';
import { SlidingCounter } from './slidingCounter.js';

/** The seed's ERROR_METRICS per tool, as counted live: the counts of the replay projection, without latency and breaker. */
export type ToolMetrics = Omit<ProjectedToolMetrics, 'latency' | 'breaker' | 'inFlight'>;

export interface TriggerSettings {
  repeatedFailures: { count: number; windowMs: number };
  errorRate: { threshold: number; minimumCalls: number; windowMs: number };
}

export const defaultTriggerSettings: TriggerSettings = {
  repeatedFailures: { count: 5, windowMs: 300_000 },
  errorRate: { threshold: 0.5, minimumCalls: 10, windowMs: 300_000 },
};

export type TriggerHit =
  | { trigger: typeof EscalationTrigger.repeatedFailures; failures: number; windowMs: number }
  | { trigger: typeof EscalationTrigger.errorRate; rate: number; calls: number; windowMs: number };

interface Entry {
  metrics: ToolMetrics;
  failures: SlidingCounter;
  calls: SlidingCounter;
  errors: SlidingCounter;
  /** When each trigger last fired: it fires once per window, not on every failure after the threshold. */
  lastFired: { repeated_failures: number; error_rate: number };
}

export interface ToolMetricsRegistry {
  recordAttempt(server: string, tool: string, at: number, failure?: ClassifiedFailure): TriggerHit[];
  recordRetry(server: string, tool: string): void;
  recordRetriesExhausted(server: string, tool: string): void;
  recordShortCircuit(server: string, tool: string): void;
  recordFallback(server: string, tool: string): void;
  recordCacheHit(server: string, tool: string): void;
  recordEscalation(server: string, tool: string, level: EscalationLevel): void;
  get(server: string, tool: string): ToolMetrics | undefined;
  list(): ToolMetrics[];
}

/** The projection's initial counts, so live and replayed metrics start from one definition. */
function emptyMetrics(server: string, tool: string): ToolMetrics {
  const { latency: _latency, breaker: _breaker, inFlight: _inFlight, ...counts } = initialToolMetrics;
  return { ...counts, server, tool, escalations: { ...counts.escalations } };
}

export function createToolMetrics(settings: TriggerSettings = defaultTriggerSettings): ToolMetricsRegistry {
  const entries = new Map<string, Entry>();

  function entry(server: string, tool: string): Entry {
    const key = `${server}/${tool}`;
    let found = entries.get(key);
    if (!found) {
      found = {
        metrics: emptyMetrics(server, tool),
        failures: new SlidingCounter(settings.repeatedFailures.windowMs),
        calls: new SlidingCounter(settings.errorRate.windowMs),
        errors: new SlidingCounter(settings.errorRate.windowMs),
        lastFired: { repeated_failures: -Infinity, error_rate: -Infinity },
      };
      entries.set(key, found);
    }
    return found;
  }

  function checkTriggers(found: Entry, at: number): TriggerHit[] {
    const hits: TriggerHit[] = [];
    const { repeatedFailures, errorRate } = settings;
    const failures = found.failures.total(at);
    if (failures > repeatedFailures.count && at - found.lastFired.repeated_failures >= repeatedFailures.windowMs) {
      found.lastFired.repeated_failures = at;
      hits.push({ trigger: EscalationTrigger.repeatedFailures, failures, windowMs: repeatedFailures.windowMs });
    }
    const calls = found.calls.total(at);
    const rate = calls === 0 ? 0 : found.errors.total(at) / calls;
    if (
      calls >= errorRate.minimumCalls &&
      rate > errorRate.threshold &&
      at - found.lastFired.error_rate >= errorRate.windowMs
    ) {
      found.lastFired.error_rate = at;
      hits.push({ trigger: EscalationTrigger.errorRate, rate, calls, windowMs: errorRate.windowMs });
    }
    return hits;
  }

  return {
    recordAttempt(server, tool, at, failure) {
      const found = entry(server, tool);
      const metrics = found.metrics;
      metrics.totalCalls += 1;
      found.calls.add(at);
      if (failure) {
        metrics.totalErrors += 1;
        if (failure.class === 'transient') metrics.transientErrors += 1;
        else if (failure.class === 'permanent') metrics.permanentErrors += 1;
        else metrics.degradedErrors += 1;
        found.failures.add(at);
        found.errors.add(at);
      }
      metrics.errorRate = metrics.totalErrors / metrics.totalCalls;
      return failure ? checkTriggers(found, at) : [];
    },
    recordRetry: (server, tool) => void (entry(server, tool).metrics.retries += 1),
    recordRetriesExhausted: (server, tool) => void (entry(server, tool).metrics.retriesExhausted += 1),
    recordShortCircuit: (server, tool) => void (entry(server, tool).metrics.shortCircuits += 1),
    recordFallback: (server, tool) => void (entry(server, tool).metrics.fallbacks += 1),
    recordCacheHit: (server, tool) => void (entry(server, tool).metrics.cacheHits += 1),
    recordEscalation: (server, tool, level) => void (entry(server, tool).metrics.escalations[level] += 1),
    get: (server, tool) => {
      const found = entries.get(`${server}/${tool}`);
      return found ? { ...found.metrics, escalations: { ...found.metrics.escalations } } : undefined;
    },
    list: () =>
      [...entries.values()].map((found) => ({ ...found.metrics, escalations: { ...found.metrics.escalations } })),
  };
}
