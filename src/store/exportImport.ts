// A run as plain JSON Lines of envelopes: export from any store, import with validation (all or nothing).
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { EventEnvelope } from '../events/envelope.js';
import type { EventStore } from './eventStore.js';

/** Writes the run's events, one envelope per line; returns how many. */
export async function exportRun(store: EventStore, runId: string, writable: Writable): Promise<{ events: number }> {
  const events = await store.read(runId);
  if (events.length === 0) throw new RetraceError(ErrorCode.badArguments, `no run ${runId} in the store`);
  for (const event of events) {
    if (!writable.write(`${JSON.stringify(event)}\n`)) await once(writable, 'drain');
  }
  return { events: events.length };
}

/**
 * Reads JSON Lines of envelopes and appends them. Every line is checked before anything is appended, so a bad
 * file imports nothing; the error names the line. A run the store already holds is refused.
 */
export async function importRun(
  store: EventStore,
  readable: Readable,
  source = 'input',
): Promise<{ runIds: string[]; events: number }> {
  const events: EventEnvelope[] = [];
  let line = 0;
  for await (const text of createInterface({ input: readable, crlfDelay: Infinity })) {
    line += 1;
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new RetraceError(ErrorCode.badArguments, `not JSON (${(error as Error).message})`, {
        location: { file: source, line },
      });
    }
    const parsed = EventEnvelope.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RetraceError(ErrorCode.badArguments, `not an event envelope: ${issue?.message ?? 'invalid'}`, {
        location: { file: source, line, path: issue?.path.join('.') ?? '' },
      });
    }
    events.push(parsed.data);
  }
  if (events.length === 0) throw new RetraceError(ErrorCode.badArguments, `${source} holds no events`);
  const runIds = [...new Set(events.map((event) => event.runId))];
  const existing = new Set((await store.runs()).map((run) => run.runId));
  const clash = runIds.find((runId) => existing.has(runId));
  if (clash !== undefined) throw new RetraceError(ErrorCode.badArguments, `run ${clash} is already in the store`);
  await store.append(events);
  return { runIds, events: events.length };
}
