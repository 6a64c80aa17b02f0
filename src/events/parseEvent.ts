// Reading an event from outside (a log line, a NATS message): upgrade an older version, validate, or say what is wrong.
import type { z } from 'zod';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { CURRENT_EVENT_VERSION } from './envelope.js';
import { RetraceEvent, isRetraceEventType } from './retraceEvent.js';

/** An event as read, before validation. */
export type RawEvent = Record<string, unknown>;

/** Lifts a raw event of version `n` to `n + 1` (its `v` is set by the parser). It may throw on input it cannot lift. */
export type EventUpgrade = (event: RawEvent) => RawEvent;

/** The step from each older version to the next: key `n` lifts `v: n` to `v: n + 1`. */
export type EventUpgrades = Readonly<Record<number, EventUpgrade>>;

/** No step yet: v1 is the only version. A v2 adds `1: (event) => …` here. */
export const eventUpgrades: EventUpgrades = {};

export interface EventParserOptions {
  currentVersion: number;
  upgrades: EventUpgrades;
}

/** Throws at creation when a step between 1 and `currentVersion` is missing, so a gap cannot reach a reader. */
export function createEventParser(options: EventParserOptions): (value: unknown) => RetraceEvent {
  const { currentVersion, upgrades } = options;
  for (let from = 1; from < currentVersion; from++) {
    if (upgrades[from] === undefined) {
      throw new RetraceError(ErrorCode.config, `no event upgrade from v${from} to v${from + 1}`);
    }
  }

  return (value: unknown): RetraceEvent => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw eventError(`an event must be an object, not ${describeValue(value)}`, '');
    }
    let event = value as RawEvent;
    const type = event['type'];
    if (typeof type !== 'string') throw eventError(`event type must be a string, not ${describeValue(type)}`, 'type');
    const version = event['v'];
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      throw eventError(`${type}: event version must be a whole number from 1, not ${describeValue(version)}`, 'v');
    }
    if (version > currentVersion) {
      throw eventError(
        `${type}: event version ${version} is newer than this retrace reads (up to ${currentVersion})`,
        'v',
      );
    }
    for (let from = version; from < currentVersion; from++) {
      event = upgradeStep(upgrades, from, event, type);
    }
    // Checked after the upgrades: an older version may have named a type differently.
    const upgradedType = event['type'];
    if (typeof upgradedType !== 'string' || !isRetraceEventType(upgradedType)) {
      throw eventError(`unknown event type ${JSON.stringify(upgradedType)}`, 'type');
    }
    const parsed = RetraceEvent.safeParse(event);
    if (parsed.success) return parsed.data;
    throw issueError(upgradedType, parsed.error);
  };
}

/** Reads an event of any version this retrace knows, as the current version. */
export const parseEvent: (value: unknown) => RetraceEvent = createEventParser({
  currentVersion: CURRENT_EVENT_VERSION,
  upgrades: eventUpgrades,
});

function upgradeStep(upgrades: EventUpgrades, from: number, event: RawEvent, type: string): RawEvent {
  const upgrade = upgrades[from];
  if (upgrade === undefined) throw eventError(`${type}: no upgrade from event version ${from}`, 'v');
  try {
    return { ...upgrade(event), v: from + 1 };
  } catch (error) {
    throw eventError(`${type}: cannot upgrade from event version ${from}: ${describeError(error)}`, 'v', error);
  }
}

/** The first issue, as `type: message` at its dotted path. */
export function issueError(type: string, error: z.ZodError, prefix = ''): RetraceError {
  const issue = error.issues[0];
  const path = [prefix, ...(issue?.path ?? []).map(String)].filter((part) => part !== '').join('.');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : '';
  return eventError(`${type}: ${issue?.message ?? 'invalid event'}${more}`, path, error);
}

function eventError(message: string, path: string, cause?: unknown): RetraceError {
  return new RetraceError(ErrorCode.badArguments, message, {
    ...(path === '' ? {} : { location: { path } }),
    ...(cause === undefined ? {} : { cause }),
  });
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
