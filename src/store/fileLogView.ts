// A read-only view of a file log beside its live writer: no lock, no log byte changed, and it follows what is appended.
import { watch, type FSWatcher } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { EventEnvelope } from '../events/envelope.js';
import type { EventStore, RunSummary } from './eventStore.js';
import { FileLogIndex, type FileLogIndexStats } from './fileLogIndex.js';
import { readIndexFile } from './fileLogIndexFile.js';
import { createLogReads } from './fileLogReads.js';
import { ReadGate, SegmentHandles } from './fileLogReaders.js';
import { indexSegmentBytes, recoverLog, type DamagedRecord, type RecoveryReport } from './fileLogRecovery.js';
import { formatPosition, listSegmentsIfAny, segmentFileName } from './fileLogSegment.js';

export interface FileLogViewOptions {
  dir: string;
  /** How often `tail` looks for new records when no change notice came (fs.watch may miss some); 250 ms by default. */
  pollMs?: number;
  clock?: Clock;
  /** How many bytes of a segment a read decodes at a time (1 MiB by default). */
  readChunkBytes?: number;
}

export interface FileLogView extends EventStore {
  /** Indexes what the writer appended since the last look; a retention's rewrite makes it scan the log afresh. */
  refresh(): Promise<void>;
  /** What the scan at open found: damage in the middle (stepped over). A partial last record is not damage here. */
  readonly recoveryReport: RecoveryReport;
  /** What the in-memory index holds now (see `FileLogIndexStats`). */
  indexStats(): FileLogIndexStats;
}

const READ_CHUNK_BYTES = 1024 * 1024;
const POLL_MS = 250;

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Opens `dir` for reading while another process may be writing it. A record cut by the end of the last segment is
 * the writer's batch in flight: the view stops before it. `read`, `runs` and `readAll` look for new records first.
 */
export async function openFileLogView(options: FileLogViewOptions): Promise<FileLogView> {
  const { dir } = options;
  const clock = options.clock ?? systemClock;
  const pollMs = options.pollMs ?? POLL_MS;
  const handles = new SegmentHandles(dir);
  const gate = new ReadGate();
  let index = new FileLogIndex();
  let steppedOver: DamagedRecord[] = [];
  /** Per segment: up to which byte its whole records are indexed. */
  let indexed = new Map<number, number>();
  /**
   * Sealed segments whose index file was looked at: found, the finished runs' positions in them left memory. The
   * writer writes a segment's index file before it starts the next segment, so one look, once a later segment
   * exists, is enough; a missing or unreadable file is not looked for again.
   */
  let checked = new Set<number>();
  let closed = false;

  const sizeOf = async (segment: number): Promise<number | undefined> =>
    stat(join(dir, segmentFileName(segment))).then(
      (stats) => stats.size,
      (error: unknown) => (isMissing(error) ? undefined : Promise.reject(error as Error)),
    );

  /** Scans the whole log afresh (at open, and after a retention rewrote segments). */
  async function rebuild(): Promise<RecoveryReport> {
    const segments = await listSegmentsIfAny(dir);
    if (segments.length === 0) {
      await gate.exclusive(() => {
        index = new FileLogIndex();
        indexed = new Map();
        checked = new Set();
        steppedOver = [];
        return Promise.resolve();
      });
      return { segments: 0, events: 0, corrupt: [] };
    }
    const recovered = await recoverLog(dir, 'tail', 'readOnly');
    const sizes = new Map<number, number>();
    for (const segment of recovered.segments) sizes.set(segment, (await sizeOf(segment)) ?? 0);
    const last = recovered.segments.at(-1);
    if (last !== undefined) sizes.set(last, recovered.lastSegmentBytes);
    await gate.exclusive(() => {
      handles.retire();
      index = recovered.index;
      indexed = sizes;
      // The scan at open looked at every sealed segment's index file.
      checked = new Set(recovered.segments.slice(0, -1));
      steppedOver = recovered.report.corrupt;
      return Promise.resolve();
    });
    return recovered.report;
  }

  /** Whether a segment indexed before is gone or changed under the view (a retention rewrote it). */
  async function rewritten(segments: readonly number[]): Promise<boolean> {
    const known = [...indexed.keys()];
    const lastKnown = known.at(-1);
    for (const segment of known) {
      if (!segments.includes(segment)) return true;
      const size = await sizeOf(segment);
      const end = indexed.get(segment) ?? 0;
      if (size === undefined || (segment === lastKnown ? size < end : size !== end)) return true;
    }
    return segments.some((segment) => lastKnown !== undefined && segment < lastKnown && !indexed.has(segment));
  }

  /** Indexes the bytes appended to the last known segment and to every segment started since. */
  async function catchUp(): Promise<void> {
    const segments = await listSegmentsIfAny(dir);
    if (await rewritten(segments)) {
      await rebuild();
      return;
    }
    const lastKnown = [...indexed.keys()].at(-1) ?? 0;
    const newest = segments.at(-1);
    for (const segment of segments) {
      if (segment < lastKnown) continue;
      const start = indexed.get(segment) ?? 0;
      const handle = await open(join(dir, segmentFileName(segment)), 'r');
      let bytes: Buffer;
      try {
        const { size } = await handle.stat();
        bytes = Buffer.allocUnsafe(Math.max(0, size - start));
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, start);
        bytes = bytes.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
      const scanned = indexSegmentBytes(bytes, start, segment, index);
      steppedOver.push(...scanned.corrupt);
      let end = start + bytes.length;
      if (scanned.partial) {
        // Cut short at the end of the newest segment: a batch being written. In a sealed segment: damage.
        if (segment === newest) end = scanned.partial.offset;
        else steppedOver.push(scanned.partial);
      }
      indexed.set(segment, end);
    }
    // A segment the writer has sealed gets its index file soon after: from then on the view, like the writer, reads
    // its finished runs' positions from that file instead of holding them.
    for (const segment of segments) {
      if (segment === newest || checked.has(segment)) continue;
      checked.add(segment);
      const name = segmentFileName(segment);
      if (steppedOver.some((damaged) => damaged.segment === name)) continue;
      if (await readIndexFile(dir, segment, indexed.get(segment) ?? 0, undefined)) index.segmentsOnDiskNow([segment]);
    }
  }

  let refreshing: Promise<void> = Promise.resolve();
  /** One refresh at a time: each waits for the one before it. */
  function refresh(): Promise<void> {
    if (closed)
      return Promise.reject(new RetraceError(ErrorCode.closed, `the view of the file log in ${dir} is closed`));
    const next = refreshing.then(catchUp, catchUp);
    refreshing = next.catch(() => undefined);
    return next;
  }

  const reads = createLogReads({
    dir,
    index: () => index,
    handles,
    gate,
    readChunkBytes: Math.max(1, options.readChunkBytes ?? READ_CHUNK_BYTES),
    committedEnd: (segment) => indexed.get(segment) ?? 0,
    // A read meeting damage in a segment its index file vouched for drops that index file (a cache the writer
    // rebuilds): the one file a view removes, so that the next open scans the segment and reads around the damage.
    steppedOver: () => steppedOver,
  });

  /** The position of the newest record indexed: `readAll` after it gives only what comes later. */
  function endPosition(): string | undefined {
    const last = [...indexed.entries()].filter(([, end]) => end > 0).at(-1);
    if (!last) return undefined;
    return formatPosition(last[0], last[1] - 1);
  }

  /** Resolves on a change notice from the directory, after `pollMs`, or when `signal` aborts. */
  function changeOrPoll(watcher: { next: Promise<void> }, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = clock.setTimeout(done, pollMs);
      signal?.addEventListener('abort', done, { once: true });
      void watcher.next.then(done);
      function done(): void {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
    });
  }

  /** Change notices of the log's directory, when the platform gives them (a poll covers the rest). */
  function watchDir(): { next: Promise<void>; close(): void } {
    let wake: () => void = () => undefined;
    const state = {
      next: new Promise<void>((resolve) => (wake = resolve)),
      close: () => watcher?.close(),
    };
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dir, { persistent: false }, () => {
        const woken = wake;
        state.next = new Promise<void>((resolve) => (wake = resolve));
        woken();
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined;
    }
    return state;
  }

  /**
   * Events after the last the view indexed when `tail` is called (not when iteration begins): a caller that reads a
   * run after calling `tail` misses nothing between the two, and may see an event twice (its seq tells).
   */
  function tail(tailOptions: { runId?: string; signal?: AbortSignal } = {}): AsyncIterable<EventEnvelope> {
    const { runId, signal } = tailOptions;
    const start = endPosition();
    return (async function* follow(): AsyncGenerator<EventEnvelope> {
      let from = start;
      await refresh();
      const watcher = watchDir();
      try {
        while (!signal?.aborted && !closed) {
          for await (const batch of reads.readAllBatches(from)) {
            for (const stored of batch) {
              from = stored.position;
              if (runId === undefined || stored.event.runId === runId) yield stored.event;
            }
          }
          await changeOrPoll(watcher, signal);
          if (signal?.aborted || closed) return;
          await refresh();
        }
      } finally {
        watcher.close();
      }
    })();
  }

  const recoveryReport = await rebuild();

  return {
    recoveryReport,
    refresh,
    indexStats: () => index.stats(),
    append() {
      return Promise.reject(
        new RetraceError(ErrorCode.usage, `the view of the file log in ${dir} is read-only: it cannot append`),
      );
    },
    async read(runId, fromSeq = 1) {
      await refresh();
      return reads.readRun(runId, fromSeq);
    },
    async *readAll(fromPosition) {
      await refresh();
      yield* reads.readAll(fromPosition);
    },
    async *readAllBatches(fromPosition) {
      await refresh();
      yield* reads.readAllBatches(fromPosition);
    },
    async runs(): Promise<RunSummary[]> {
      await refresh();
      return index.summaries();
    },
    async endPosition() {
      await refresh();
      return endPosition();
    },
    tail,
    async close() {
      if (closed) return;
      closed = true;
      await refreshing;
      handles.retire();
    },
  };
}
