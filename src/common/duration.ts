// Durations as the seed writes them (a number of seconds) or as strings with a unit: `250ms`, `2s`, `5m`, `1h`.
import { z } from 'zod';

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const pattern = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/** Parses a duration into milliseconds; returns undefined when the text is not a duration. */
export function parseDurationMs(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const match = pattern.exec(value);
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (units[unit ?? 's'] ?? 1000));
}

/** A duration field: accepts seconds or a unit string, yields milliseconds. */
export const Duration = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = parseDurationMs(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration (seconds as a number, or a string like 250ms, 2s, 5m), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  return `${(ms / 60_000).toFixed(1)}m`;
}
