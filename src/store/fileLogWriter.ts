// Group commit for the file log: queued appends go out in one write (and one fsync) per batch, resolved in order.
import { constants, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Durability } from './eventStore.js';
import { frameInto, HEADER_BYTES } from './fileLogRecord.js';
import { fileLogIoError, WRITER_STOPPED } from './fileLogIoError.js';
import { segmentFileName } from './fileLogSegment.js';

/** One `append()` call: its validated events and their JSON, framed when the batch is written. */
export interface PendingAppend<Event> {
  events: Event[];
  jsons: string[];
  /** `performance.now()` when the append was issued: how long it waited to be durable is measured from here. */
  queuedAt: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export interface SegmentWriterOptions<Event> {
  dir: string;
  durability: Durability;
  maxBatchWaitMs: number;
  segmentBytes: number;
  segment: number;
  segmentSize: number;
  /** CRC32 of the active segment's `segmentSize` bytes, carried on as batches are written. */
  segmentCrc: number;
  /** Called with a segment's final size and CRC when it is sealed or the log closes. */
  onSegmentClosed: (segment: number, size: number, crc: number) => Promise<void>;
  /** Called for each record of a batch once it is written (and synced), before its appends resolve. */
  onRecord: (event: Event, segment: number, offset: number, frameBytes: number) => void;
  /** Called once per batch after `onRecord`, with the batch's appends in order. */
  onBatch: (batch: readonly PendingAppend<Event>[]) => void;
}

/** Not O_APPEND: positional writes must land where the written bytes end (a failed write is overwritten). */
const READ_WRITE_CREATE = constants.O_RDWR | constants.O_CREAT;

/** Under load, a batch smaller than this waits (at most `maxBatchWaitMs`) for companions. */
const TARGET_BATCH_RECORDS = 256;
/**
 * Records framed into one write at most: while one batch's fsync runs the next is framed and written, so a backlog
 * goes out in several writes instead of one long framing pass that leaves the disk idle.
 */
const MAX_BATCH_RECORDS = 256;
/** The framing buffer is kept for the next batch up to this size (a batch of huge records gets a buffer of its own). */
const KEPT_FRAME_BYTES = 4 * 1024 * 1024;

/** A batch written to the segment and waiting for the fsync that makes it durable. */
interface WrittenBatch<Event> {
  appends: PendingAppend<Event>[];
  /** Where the batch starts in the segment, and each record's framed length. */
  offset: number;
  frameBytes: Uint32Array;
  size: number;
}

/**
 * Pipelined group commit: a batch is framed into one buffer and written with one write; one fsync at a time is in
 * flight, and batches written while it runs wait for the next one, which covers them all. So the main thread frames
 * the next batch while the disk syncs the last, and each append resolves only once an fsync begun after its write
 * has completed.
 */
export class SegmentWriter<Event> {
  private readonly queue: PendingAppend<Event>[] = [];
  private queuedRecords = 0;
  private handle: FileHandle | undefined;
  private running: Promise<void> | undefined;
  private paused: Promise<void> | undefined;
  private lastBatchCalls = 0;
  private failure: unknown;
  /** Written, not yet covered by a completed fsync, in log order. */
  private readonly unsynced: WrittenBatch<Event>[] = [];
  private syncing: Promise<void> | undefined;
  /** What the writer has done since the log opened: records and batches written, fsyncs completed. */
  readonly stats = { records: 0, writes: 0, syncs: 0 };
  segment: number;
  /** Bytes of the active segment that are durable per the durability setting (what readers may see). */
  committedSize: number;
  /** Bytes of the active segment that are written (committed or waiting for their fsync). */
  private writtenSize: number;
  private segmentCrc: number;
  /** The batch being framed (reused: the write is done before the next batch is framed). */
  private frame = Buffer.allocUnsafe(64 * 1024);

  private constructor(private readonly options: SegmentWriterOptions<Event>) {
    this.segment = options.segment;
    this.committedSize = options.segmentSize;
    this.writtenSize = options.segmentSize;
    this.segmentCrc = options.segmentCrc;
  }

  static async open<Event>(options: SegmentWriterOptions<Event>): Promise<SegmentWriter<Event>> {
    const writer = new SegmentWriter(options);
    writer.handle = await open(join(options.dir, segmentFileName(options.segment)), READ_WRITE_CREATE);
    return writer;
  }

  /** The error that stopped the writer (every later append is refused with it); undefined while it writes. */
  get failed(): unknown {
    return this.failure;
  }

  enqueue(pending: PendingAppend<Event>): void {
    if (this.failure !== undefined) {
      pending.reject(this.failure);
      return;
    }
    this.queue.push(pending);
    this.queuedRecords += pending.events.length;
    this.kick();
  }

  private kick(): void {
    if (this.paused) return;
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      // An append queued while the loop was finishing starts the next one.
      if (this.queue.length > 0) this.kick();
    });
  }

  private async run(): Promise<void> {
    // Let every append issued in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 && this.failure === undefined) {
      if (this.paused) return;
      if (!this.syncing) await this.gather();
      const batch = this.takeBatch();
      this.lastBatchCalls = batch.length;
      try {
        await this.write(batch);
      } catch (error) {
        this.fail(fileLogIoError(`could not write to ${this.segmentPath()}`, error, WRITER_STOPPED), batch);
        return;
      }
      this.startSync();
      // Appends issued while this batch was framed (or its fsync runs) make the next batch.
      if (this.queue.length === 0) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** The queued appends up to `MAX_BATCH_RECORDS` records (at least one append, whatever its size), in order. */
  private takeBatch(): PendingAppend<Event>[] {
    let count = 0;
    let records = 0;
    while (count < this.queue.length && records < MAX_BATCH_RECORDS) {
      records += this.queue[count]?.events.length ?? 0;
      count += 1;
    }
    this.queuedRecords -= records;
    return this.queue.splice(0, count);
  }

  /** Past a failed write or fsync nothing can be promised about the file: every pending and later append is refused. */
  private fail(error: unknown, batch: PendingAppend<Event>[] = []): void {
    this.failure ??= error;
    const written = this.unsynced.splice(0).flatMap((entry) => entry.appends);
    for (const pending of [...written, ...batch, ...this.queue.splice(0)]) pending.reject(this.failure);
    this.queuedRecords = 0;
  }

  /** With `batch` durability and concurrent callers, wait (bounded) for a fuller batch before the fsync. */
  private async gather(): Promise<void> {
    if (this.options.durability !== 'batch' || this.options.maxBatchWaitMs <= 0 || this.lastBatchCalls < 2) return;
    const deadline = performance.now() + this.options.maxBatchWaitMs;
    while (this.queuedRecords < TARGET_BATCH_RECORDS && performance.now() < deadline) {
      const before = this.queuedRecords;
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.queuedRecords === before) break;
    }
  }

  /** Frames the batch into one buffer and writes it after what is already written. */
  private async write(batch: PendingAppend<Event>[]): Promise<void> {
    let room = 0;
    let records = 0;
    for (const pending of batch) {
      records += pending.jsons.length;
      for (const json of pending.jsons) room += HEADER_BYTES + json.length * 3 + 1;
    }
    let frame = this.frame;
    if (frame.length < room) {
      frame = Buffer.allocUnsafe(Math.max(room, frame.length * 2));
      if (frame.length <= KEPT_FRAME_BYTES) this.frame = frame;
    }
    const frameBytes = new Uint32Array(records);
    let size = 0;
    let record = 0;
    for (const pending of batch) {
      for (const json of pending.jsons) {
        const bytes = frameInto(frame, size, json);
        frameBytes[record] = bytes;
        record += 1;
        size += bytes;
      }
    }
    if (this.writtenSize > 0 && this.writtenSize + size > this.options.segmentBytes) {
      // The framed bytes wait in `frame`: nothing else frames until this batch is written.
      await this.drain();
      if (this.failure !== undefined) throw this.failure;
      await this.roll();
    }
    const fd = this.requireHandle().fd;
    // The write only copies into the page cache, so it is done in place rather than as a thread-pool round trip;
    // the fsync, which waits for the disk, is the asynchronous part.
    let written = 0;
    try {
      while (written < size) written += writeSync(fd, frame, written, size - written, this.writtenSize + written);
    } catch (error) {
      // Bytes of the batch may be in the file already: a torn record the next open cuts (nothing of it was acknowledged).
      const what = `could not write ${size - written} of ${size} bytes to ${this.segmentPath()} at byte ${this.writtenSize + written}`;
      throw fileLogIoError(what, error, WRITER_STOPPED);
    }
    this.segmentCrc = crc32(frame.subarray(0, size), this.segmentCrc);
    this.unsynced.push({ appends: batch, offset: this.writtenSize, frameBytes, size });
    this.writtenSize += size;
    this.stats.records += records;
    this.stats.writes += 1;
  }

  /** Starts an fsync covering every written batch, unless one is in flight (its completion starts the next). */
  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0 || this.failure !== undefined) return;
    const covered = this.unsynced.splice(0);
    if (this.options.durability === 'none') {
      this.committed(covered);
      return;
    }
    const handle = this.requireHandle();
    this.syncing = handle.datasync().then(
      () => {
        this.syncing = undefined;
        this.stats.syncs += 1;
        try {
          this.committed(covered);
        } catch (error) {
          this.fail(error);
          return;
        }
        this.startSync();
      },
      (error: unknown) => {
        this.syncing = undefined;
        const first = covered[0]?.offset ?? 0;
        const last = covered.at(-1);
        const end = last === undefined ? first : last.offset + last.size;
        const what = `could not sync ${this.segmentPath()} (bytes ${first} to ${end} are written but not durable)`;
        this.fail(
          fileLogIoError(what, error, WRITER_STOPPED),
          covered.flatMap((entry) => entry.appends),
        );
      },
    );
  }

  /** Durable: index the records, let readers see them, tell the tails, resolve the appends in order. */
  private committed(batches: WrittenBatch<Event>[]): void {
    for (const entry of batches) {
      let offset = entry.offset;
      let record = 0;
      for (const pending of entry.appends) {
        for (const event of pending.events) {
          const bytes = entry.frameBytes[record] ?? 0;
          this.options.onRecord(event, this.segment, offset, bytes);
          offset += bytes;
          record += 1;
        }
      }
      this.committedSize = entry.offset + entry.size;
      this.options.onBatch(entry.appends);
      for (const pending of entry.appends) pending.resolve();
    }
  }

  /** Waits until nothing written is waiting for its fsync. */
  private async drain(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  private segmentPath(): string {
    return join(this.options.dir, segmentFileName(this.segment));
  }

  private requireHandle(): FileHandle {
    if (!this.handle) throw new Error('file log segment writer is closed');
    return this.handle;
  }

  /** Seals the active segment (synced) and starts the next one. A no-op on an empty segment. */
  async roll(): Promise<void> {
    await this.drain();
    if (this.writtenSize === 0) return;
    const handle = this.requireHandle();
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    await this.options.onSegmentClosed(this.segment, this.committedSize, this.segmentCrc);
    this.segment += 1;
    this.committedSize = 0;
    this.writtenSize = 0;
    this.segmentCrc = 0;
    this.handle = await open(join(this.options.dir, segmentFileName(this.segment)), READ_WRITE_CREATE);
  }

  /** Waits for the writer to go idle (every written batch synced) and holds further batches until released. */
  async pause(): Promise<() => void> {
    while (this.paused) await this.paused;
    let release: () => void = () => undefined;
    this.paused = new Promise<void>((resolve) => {
      release = () => {
        this.paused = undefined;
        resolve();
        this.kick();
      };
    });
    while (this.running) await this.running;
    await this.drain();
    return release;
  }

  /** Writes what is queued, syncs, and closes the segment. */
  async close(): Promise<void> {
    while (this.running) await this.running;
    await this.drain();
    if (!this.handle) return;
    const healthy = this.failure === undefined;
    if (healthy) await this.handle.sync();
    await this.handle.close();
    this.handle = undefined;
    if (healthy) await this.options.onSegmentClosed(this.segment, this.committedSize, this.segmentCrc);
  }
}
