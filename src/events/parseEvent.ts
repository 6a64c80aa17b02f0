// Reading an event from outside (a log line, a NATS message): upgrade an older version, validate, or say what is wrong.
import type { z } from 'zod';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { CURRENT_EVENT_VERSION, type EventEnvelope } from './envelope.js';
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

/**
 * Reads an event a store vouches for: it was validated when it was written and its record's checksum held, so the
 * schema is not run again. Cheap structural checks still give a located error for a record that is not an envelope
 * at all; an older version goes through the upgrade chain and is validated as `parseEvent` does. A type this
 * retrace does not know passes through (the projections ignore it). `where` (e.g. the store position) prefixes errors.
 */
export function createTrustedEventDecoder(
  options: EventParserOptions,
): (value: unknown, where?: string) => EventEnvelope {
  const parse = createEventParser(options);
  const { currentVersion } = options;
  return (value: unknown, where?: string): EventEnvelope => {
    const problem = envelopeProblem(value, currentVersion);
    if (problem === undefined) return value as EventEnvelope;
    if (problem === olderVersion) {
      try {
        return parse(value);
      } catch (error) {
        throw located(error, where);
      }
    }
    throw located(eventError(problem.message, problem.path), where);
  };
}

/** Reads an event of the log (checksum held, validated on write) without re-validating it: see `createTrustedEventDecoder`. */
export const decodeTrustedEvent: (value: unknown, where?: string) => EventEnvelope = createTrustedEventDecoder({
  currentVersion: CURRENT_EVENT_VERSION,
  upgrades: eventUpgrades,
});

const olderVersion = { message: 'older version', path: 'v' };

const isObject = (value: unknown): value is RawEvent =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): boolean => typeof value === 'string' && value !== '';
const isWhole = (value: unknown, from: number): boolean =>
  typeof value === 'number' && Number.isInteger(value) && value >= from;

/** What makes `value` not a current envelope, or undefined: the envelope's fields, not each type's data. */
function envelopeProblem(value: unknown, currentVersion: number): { message: string; path: string } | undefined {
  if (!isObject(value)) return { message: `an event must be an object, not ${describeValue(value)}`, path: '' };
  const { v, id, runId, actorId, parentId, seq, ts, type, data } = value;
  if (!isText(type))
    return { message: `event type must be a non-empty string, not ${describeValue(type)}`, path: 'type' };
  const what = type as string;
  if (v !== currentVersion) {
    if (!isWhole(v, 1)) {
      return { message: `${what}: event version must be a whole number from 1, not ${describeValue(v)}`, path: 'v' };
    }
    if ((v as number) > currentVersion) {
      return {
        message: `${what}: event version ${String(v)} is newer than this retrace reads (up to ${currentVersion})`,
        path: 'v',
      };
    }
    return olderVersion;
  }
  if (!isText(id)) return { message: `${what}: id must be a non-empty string, not ${describeValue(id)}`, path: 'id' };
  if (!isText(runId)) {
    return { message: `${what}: runId must be a non-empty string, not ${describeValue(runId)}`, path: 'runId' };
  }
  if (!isText(actorId)) {
    return { message: `${what}: actorId must be a non-empty string, not ${describeValue(actorId)}`, path: 'actorId' };
  }
  if (parentId !== undefined && !isText(parentId)) {
    return {
      message: `${what}: parentId must be a non-empty string, not ${describeValue(parentId)}`,
      path: 'parentId',
    };
  }
  if (!isWhole(seq, 1)) {
    return { message: `${what}: seq must be a whole number from 1, not ${describeValue(seq)}`, path: 'seq' };
  }
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    return { message: `${what}: ts must be a number, not ${describeValue(ts)}`, path: 'ts' };
  }
  if (!isObject(data)) return { message: `${what}: data must be an object, not ${describeValue(data)}`, path: 'data' };
  return undefined;
}

/** The error with `where` in front of its message (the store position of the record). */
function located(error: unknown, where: string | undefined): unknown {
  if (where === undefined || !(error instanceof RetraceError)) return error;
  return new RetraceError(error.code, `event at ${where}: ${error.message}`, {
    ...(error.location === undefined ? {} : { location: error.location }),
    cause: error,
  });
}

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
