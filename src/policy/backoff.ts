// Backoff arithmetic: delay = min(base × exponential_base^retry, max_delay), then jitter.
import type { BackoffSettings, Jitter } from './toolPolicy.js';

/** The delay before retry number `retryIndex` (0 for the first retry), before jitter. */
export function exponentialDelayMs(settings: BackoffSettings, retryIndex: number): number {
  if (settings.baseDelayMs === 0) return 0;
  const raw = settings.baseDelayMs * Math.pow(settings.exponentialBase, retryIndex);
  return Math.min(Number.isFinite(raw) ? raw : settings.maxDelayMs, settings.maxDelayMs);
}

/**
 * Applies jitter to a computed delay with a uniform `random` in [0, 1).
 * full: [0, d]; equal: [d/2, d]; decorrelated (AWS): [base, min(max, previous × 3)].
 */
export function jitteredDelayMs(
  jitter: Jitter,
  delayMs: number,
  random: number,
  settings: Pick<BackoffSettings, 'baseDelayMs' | 'maxDelayMs'>,
  previousDelayMs: number | undefined,
): number {
  switch (jitter) {
    case 'none':
      return delayMs;
    case 'full':
      return Math.round(random * delayMs);
    case 'equal':
      return Math.round(delayMs / 2 + random * (delayMs / 2));
    case 'decorrelated': {
      const low = settings.baseDelayMs;
      const high = Math.max(low, Math.min(settings.maxDelayMs, (previousDelayMs ?? low) * 3));
      return Math.round(low + random * (high - low));
    }
  }
}

/** The full computation: the delay before retry `retryIndex`. */
export function backoffDelayMs(
  settings: BackoffSettings,
  retryIndex: number,
  random: number,
  previousDelayMs?: number,
): number {
  return jitteredDelayMs(settings.jitter, exponentialDelayMs(settings, retryIndex), random, settings, previousDelayMs);
}

/** The worst case of the retries of one tool: the sum of un-jittered delays (jitter never exceeds them, except decorrelated which is capped by max). */
export function worstCaseBackoffMs(settings: BackoffSettings): number {
  let total = 0;
  for (let retry = 0; retry < settings.maxRetries; retry += 1) {
    total += settings.jitter === 'decorrelated' ? settings.maxDelayMs : exponentialDelayMs(settings, retry);
  }
  return total;
}
