// How far the NATS bus has published the log: a position plus per-run seqs, kept in a file (saved as it moves) so a restarted process publishes what a dead one missed.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventStore, StorePosition } from '../store/eventStore.js';

/**
 * Every event at or before `position` (the whole log when undefined: none) is published, and so is every
 * event after it whose seq is at most `seqs[runId]`. Live events carry no log position (the runtime
 * publishes them as their appends resolve), so the per-run seqs say what went out since the position.
 */
export interface BusCursor {
  position: StorePosition | undefined;
  seqs: Map<string, number>;
  /** Written by a bus that closed with everything confirmed: nothing after the cursor waits to be published. */
  clean?: boolean;
}

export const BusCursorFile = z.strictObject({
  v: z.literal(1),
  position: z.string().nullable(),
  seqs: z.record(z.string(), z.number().int().min(0)),
  /** A running bus writes false as it starts, so a process that dies leaves a cursor its successor re-reads after. */
  clean: z.boolean().default(false),
});
export type BusCursorFile = z.infer<typeof BusCursorFile>;

/** Whether the cursor says `event` is published. */
export function isPublished(cursor: BusCursor, runId: string, seq: number): boolean {
  return seq <= (cursor.seqs.get(runId) ?? 0);
}

/** The cursor of a bus that starts now without a file: everything already in the log counts as published. */
export async function cursorAtEnd(store: Pick<EventStore, 'runs'>): Promise<BusCursor> {
  const seqs = new Map<string, number>();
  for (const run of await store.runs()) seqs.set(run.runId, run.lastSeq);
  return { position: undefined, seqs };
}

/** The saved cursor, or undefined when there is none yet; a damaged file is an error naming it. */
export async function readBusCursor(file: string): Promise<BusCursor | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RetraceError(ErrorCode.store, `cannot read the NATS bus cursor: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  let parsed: BusCursorFile;
  try {
    parsed = BusCursorFile.parse(JSON.parse(text));
  } catch (error) {
    throw new RetraceError(
      ErrorCode.store,
      `the NATS bus cursor is damaged (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); delete it to publish from the end of the log, at the cost of what a dead process did not publish`,
      { location: { file }, cause: error },
    );
  }
  return { position: parsed.position ?? undefined, seqs: new Map(Object.entries(parsed.seqs)), clean: parsed.clean };
}

/**
 * The cursor a bus with a store starts from: the saved one, or the end of the log. A cursor not closed clean
 * means a process before this one may have died with events unpublished: start behind, re-read. The file is
 * marked unclean until this bus closes clean.
 */
export async function openBusCursor(
  store: Pick<EventStore, 'runs'>,
  file: string | undefined,
): Promise<{ cursor: BusCursor; behind: boolean }> {
  const saved = file ? await readBusCursor(file) : undefined;
  const cursor = saved ?? (await cursorAtEnd(store));
  if (file) await writeBusCursor(file, { ...cursor, clean: false });
  return { cursor, behind: saved !== undefined && saved.clean !== true };
}

/** Written beside and renamed over, so a crash leaves the old cursor or the new one, never half of one. */
export async function writeBusCursor(file: string, cursor: BusCursor): Promise<void> {
  const body: BusCursorFile = {
    v: 1,
    position: cursor.position ?? null,
    seqs: Object.fromEntries(cursor.seqs),
    clean: cursor.clean ?? false,
  };
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${JSON.stringify(body)}\n`);
  await rename(temporary, file);
}

/**
 * Moves the position forward over the published prefix of the log and keeps seqs only for runs with
 * events after it (or published while this read), so the cursor stays small. Reads the log from the
 * cursor's position to its end; `cursor.seqs` may grow meanwhile.
 */
export async function compactCursor(store: Pick<EventStore, 'readAll'>, cursor: BusCursor): Promise<BusCursor> {
  const before = new Map(cursor.seqs);
  let position = cursor.position;
  let prefix = true;
  const later = new Set<string>();
  for await (const stored of store.readAll(cursor.position)) {
    if (prefix && isPublished(cursor, stored.event.runId, stored.event.seq)) position = stored.position;
    else {
      prefix = false;
      later.add(stored.event.runId);
    }
  }
  const seqs = new Map<string, number>();
  for (const [runId, seq] of cursor.seqs) if (later.has(runId) || before.get(runId) !== seq) seqs.set(runId, seq);
  return { position, seqs };
}

/** Past this many runs in the cursor, a save first compacts it (one read of the log after its position). */
const COMPACT_CURSOR_RUNS = 1_000;

/** The live cursor a saver writes, and whether its bus is behind it (then the log after it is not published). */
export interface SavedCursorSource {
  readonly store: Pick<EventStore, 'readAll'>;
  readonly cursor: BusCursor;
  readonly behind: boolean;
}

export interface BusCursorSaverOptions {
  file: string;
  saveIntervalMs: number;
  warn: (message: string) => void;
  /** A compaction moved the cursor's position on and dropped these runs from it. */
  compacted: (position: StorePosition | undefined, forgottenRunIds: readonly string[]) => void;
}

/** Saves the bus's cursor to its file at most every `saveIntervalMs` while it moves, and once more on close. */
export class BusCursorSaver {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private saving: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly source: SavedCursorSource;
  private readonly options: BusCursorSaverOptions;

  constructor(source: SavedCursorSource, options: BusCursorSaverOptions) {
    this.source = source;
    this.options = options;
  }

  /** The cursor moved: save it within the interval. */
  schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    const source = this.source;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save({ compact: source.cursor.seqs.size > COMPACT_CURSOR_RUNS && !source.behind, clean: false });
    }, this.options.saveIntervalMs);
    this.timer.unref();
  }

  /** Stops the timer and saves a last time: clean when everything was confirmed, and then compacted if large. */
  close(clean: boolean): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.save({ compact: clean && this.source.cursor.seqs.size > COMPACT_CURSOR_RUNS, clean });
  }

  /** One save at a time; a compacting save first reads the log after the cursor to shrink it. */
  private save(options: { compact: boolean; clean: boolean }): Promise<void> {
    const { source } = this;
    const { file } = this.options;
    this.saving = this.saving
      .then(async () => {
        if (options.compact && !source.behind) {
          const positionBefore = source.cursor.position;
          const compacted = await compactCursor(source.store, source.cursor);
          // A re-read that moved the position meanwhile knows better.
          if (!source.behind && source.cursor.position === positionBefore) {
            source.cursor.position = compacted.position;
            const forgotten = [...source.cursor.seqs.keys()].filter((runId) => !compacted.seqs.has(runId));
            for (const runId of forgotten) source.cursor.seqs.delete(runId);
            this.options.compacted(compacted.position, forgotten);
          }
        }
        await writeBusCursor(file, { ...source.cursor, clean: options.clean });
      })
      .catch((error: unknown) => {
        this.options.warn(
          `NATS bus could not save its cursor to ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
    return this.saving;
  }
}
