// Group commit for the file log: queued appends go out in one write (and one fsync) per batch, resolved in order.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Durability } from './eventStore.js';
import { frameInto, HEADER_BYTES } from './fileLogRecord.js';
import { segmentFileName } from './fileLogSegment.js';

/** One `append()` call: its validated events and their JSON, framed when the batch is written. */
export interface PendingAppend<Event> {
  events: Event[];
  jsons: string[];
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

/** Not O_APPEND: positional writes must land where the committed bytes end (a failed write is overwritten). */
const READ_WRITE_CREATE = constants.O_RDWR | constants.O_CREAT;

/** Under load, a batch smaller than this waits (at most `maxBatchWaitMs`) for companions. */
const TARGET_BATCH_RECORDS = 256;

export class SegmentWriter<Event> {
  private readonly queue: PendingAppend<Event>[] = [];
  private queuedRecords = 0;
  private handle: FileHandle | undefined;
  private running: Promise<void> | undefined;
  private paused: Promise<void> | undefined;
  private lastBatchCalls = 0;
  private failure: unknown;
  segment: number;
  /** Bytes of the active segment that are written (what readers may see). */
  committedSize: number;
  private segmentCrc: number;

  private constructor(private readonly options: SegmentWriterOptions<Event>) {
    this.segment = options.segment;
    this.committedSize = options.segmentSize;
    this.segmentCrc = options.segmentCrc;
  }

  static async open<Event>(options: SegmentWriterOptions<Event>): Promise<SegmentWriter<Event>> {
    const writer = new SegmentWriter(options);
    writer.handle = await open(join(options.dir, segmentFileName(options.segment)), READ_WRITE_CREATE);
    return writer;
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
    while (this.queue.length > 0) {
      if (this.paused) return;
      await this.gather();
      const batch = this.queue.splice(0);
      this.queuedRecords = 0;
      this.lastBatchCalls = batch.length;
      try {
        await this.commit(batch);
        for (const pending of batch) pending.resolve();
      } catch (error) {
        // Past a failed write or fsync nothing can be promised about the file: refuse every later append.
        this.failure = error;
        for (const pending of [...batch, ...this.queue.splice(0)]) pending.reject(error);
      }
    }
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

  private async commit(batch: PendingAppend<Event>[]): Promise<void> {
    let room = 0;
    for (const pending of batch) for (const json of pending.jsons) room += HEADER_BYTES + json.length * 3 + 1;
    const frame = Buffer.allocUnsafe(room);
    const frameBytes: number[] = [];
    let size = 0;
    for (const pending of batch) {
      for (const json of pending.jsons) {
        const bytes = frameInto(frame, size, json);
        frameBytes.push(bytes);
        size += bytes;
      }
    }
    const buffer = frame.subarray(0, size);
    if (this.committedSize > 0 && this.committedSize + buffer.length > this.options.segmentBytes) await this.roll();
    const handle = this.requireHandle();
    let written = 0;
    while (written < buffer.length) {
      const result = await handle.write(buffer, written, buffer.length - written, this.committedSize + written);
      written += result.bytesWritten;
    }
    if (this.options.durability !== 'none') await handle.datasync();
    let offset = this.committedSize;
    let record = 0;
    for (const pending of batch) {
      for (const event of pending.events) {
        const bytes = frameBytes[record] ?? 0;
        this.options.onRecord(event, this.segment, offset, bytes);
        offset += bytes;
        record += 1;
      }
    }
    this.committedSize += buffer.length;
    this.segmentCrc = crc32(buffer, this.segmentCrc);
    this.options.onBatch(batch);
  }

  private requireHandle(): FileHandle {
    if (!this.handle) throw new Error('file log segment writer is closed');
    return this.handle;
  }

  /** Seals the active segment (synced) and starts the next one. A no-op on an empty segment. */
  async roll(): Promise<void> {
    if (this.committedSize === 0) return;
    const handle = this.requireHandle();
    await handle.sync();
    await handle.close();
    this.handle = undefined;
    await this.options.onSegmentClosed(this.segment, this.committedSize, this.segmentCrc);
    this.segment += 1;
    this.committedSize = 0;
    this.segmentCrc = 0;
    this.handle = await open(join(this.options.dir, segmentFileName(this.segment)), READ_WRITE_CREATE);
  }

  /** Waits for the writer to go idle and holds further batches until the returned release is called. */
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
    return release;
  }

  /** Writes what is queued, syncs, and closes the segment. */
  async close(): Promise<void> {
    while (this.running) await this.running;
    if (!this.handle) return;
    const healthy = this.failure === undefined;
    if (healthy) await this.handle.sync();
    await this.handle.close();
    this.handle = undefined;
    if (healthy) await this.options.onSegmentClosed(this.segment, this.committedSize, this.segmentCrc);
  }
}
