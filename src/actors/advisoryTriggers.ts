// The two cross-call escalation triggers (>N failures in a window, error rate), fed the envelopes the tool-metrics projection folds.
import type { EventEnvelope } from '../events/envelope.js';
import type { AdvisoryRaised } from '../events/advisoryEvents.js';
import { buildEscalation, EscalationTrigger, type Escalation } from '../policy/escalation.js';
import type { ToolPolicy } from '../policy/toolPolicy.js';
import { readAttemptFailed, readSucceeded, toolKey, toolOf } from '../store/projections/eventData.js';
import { SlidingCounter } from './slidingCounter.js';

export interface TriggerSettings {
  repeatedFailures: { count: number; windowMs: number };
  errorRate: { threshold: number; minimumCalls: number; windowMs: number };
}

export const defaultTriggerSettings: TriggerSettings = {
  repeatedFailures: { count: 5, windowMs: 300_000 },
  errorRate: { threshold: 0.5, minimumCalls: 10, windowMs: 300_000 },
};

/** A trigger crossed, with the figures of its window (each trigger has its own window). */
export interface TriggerHit {
  trigger: typeof EscalationTrigger.repeatedFailures | typeof EscalationTrigger.errorRate;
  server: string;
  tool: string;
  windowMs: number;
  /** Failed attempts in the window. */
  failures: number;
  /** Attempts in the window, failed or not. */
  calls: number;
  /** The setting crossed: the failure count, or the error rate. */
  threshold: number;
}

/** Attempts and failures over one window. */
interface Window {
  calls: SlidingCounter;
  failures: SlidingCounter;
  /** When its trigger last fired: it fires once per window, not on every failure after the threshold. */
  lastFiredAt: number;
}

export interface AdvisoryTriggers {
  /**
   * Counts an attempt an event reports, as the tool-metrics projection counts it (a failed attempt that was made,
   * a success an attempt answered), and returns the triggers its failure crossed. Other events count nothing.
   */
  observe(event: EventEnvelope): TriggerHit[];
}

/**
 * The windows cannot live in the projection: they need the configured lengths and thresholds, which the log does
 * not hold, and a time-bucketed counter a pure reducer would copy on every event. The counts themselves (every
 * total, the escalations by level) come from the projection.
 */
export function createAdvisoryTriggers(settings: TriggerSettings = defaultTriggerSettings): AdvisoryTriggers {
  const windows = new Map<string, { repeated: Window; rate: Window }>();

  const windowOf = (windowMs: number): Window => ({
    calls: new SlidingCounter(windowMs),
    failures: new SlidingCounter(windowMs),
    lastFiredAt: -Infinity,
  });

  function count(key: string, at: number, failed: boolean): { repeated: Window; rate: Window } {
    let found = windows.get(key);
    if (!found) {
      found = { repeated: windowOf(settings.repeatedFailures.windowMs), rate: windowOf(settings.errorRate.windowMs) };
      windows.set(key, found);
    }
    for (const window of [found.repeated, found.rate]) {
      window.calls.add(at);
      if (failed) window.failures.add(at);
    }
    return found;
  }

  function crossed(found: { repeated: Window; rate: Window }, server: string, tool: string, at: number): TriggerHit[] {
    const hits: TriggerHit[] = [];
    const { repeatedFailures, errorRate } = settings;
    const repeated = found.repeated;
    const failures = repeated.failures.total(at);
    if (failures > repeatedFailures.count && at - repeated.lastFiredAt >= repeatedFailures.windowMs) {
      repeated.lastFiredAt = at;
      hits.push({
        trigger: EscalationTrigger.repeatedFailures,
        server,
        tool,
        windowMs: repeatedFailures.windowMs,
        failures,
        calls: repeated.calls.total(at),
        threshold: repeatedFailures.count,
      });
    }
    const rate = found.rate;
    const calls = rate.calls.total(at);
    const errors = rate.failures.total(at);
    if (
      calls >= errorRate.minimumCalls &&
      calls > 0 &&
      errors / calls > errorRate.threshold &&
      at - rate.lastFiredAt >= errorRate.windowMs
    ) {
      rate.lastFiredAt = at;
      hits.push({
        trigger: EscalationTrigger.errorRate,
        server,
        tool,
        windowMs: errorRate.windowMs,
        failures: errors,
        calls,
        threshold: errorRate.threshold,
      });
    }
    return hits;
  }

  return {
    observe(event) {
      if (event.type !== 'toolcall.attempt.failed' && event.type !== 'toolcall.succeeded') return [];
      const tool = toolOf(event.data);
      if (!tool) return [];
      if (event.type === 'toolcall.succeeded') {
        if (readSucceeded(event.data).n !== undefined) count(toolKey(tool), event.ts, false);
        return [];
      }
      // A short-circuited attempt was never made: the open circuit already speaks for the tool.
      if (readAttemptFailed(event.data).failure.kind === 'circuit_open') return [];
      return crossed(count(toolKey(tool), event.ts, true), tool.server, tool.tool, event.ts);
    },
  };
}

/** The fact a trigger crossed by the failed attempt of `callId` records, its escalation built from the tool's policy. */
export function advisoryRaised(
  hit: TriggerHit,
  policy: ToolPolicy,
  callId: string,
  at: number,
): { fact: AdvisoryRaised; escalation: Escalation } {
  const { server, tool } = hit;
  const minutes = Math.round(hit.windowMs / 60_000);
  const message =
    hit.trigger === EscalationTrigger.repeatedFailures
      ? `${server}/${tool} failed ${hit.failures} times in ${minutes} minute${minutes === 1 ? '' : 's'}`
      : `${server}/${tool} error rate ${((hit.failures / hit.calls) * 100).toFixed(0)}% over ${hit.calls} calls`;
  const escalation = buildEscalation(policy, hit.trigger, { server, tool, at, callId, message });
  const fact: AdvisoryRaised = {
    type: 'toolcall.advisory.raised',
    at,
    callId,
    server,
    tool,
    escalation,
    windowMs: hit.windowMs,
    failures: hit.failures,
    calls: hit.calls,
    threshold: hit.threshold,
  };
  return { fact, escalation };
}
