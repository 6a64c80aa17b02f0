// Readers and retention side by side: readers pin the segment files they use, so compaction never tears a read.
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { segmentFileName } from './fileLogSegment.js';

/**
 * Readers take their snapshot (index entries, open segment files) under the shared side; retention rewrites under
 * the exclusive side, waiting for snapshots being taken and holding new ones back meanwhile. Only the taking of a
 * snapshot is covered, not the reading, which goes on through the pinned files while retention runs.
 */
export class ReadGate {
  private readers = 0;
  private exclusiveHeld: Promise<void> | undefined;
  private drained: (() => void) | undefined;

  async shared<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusiveHeld) await this.exclusiveHeld;
    this.readers += 1;
    try {
      return await work();
    } finally {
      this.readers -= 1;
      if (this.readers === 0) this.drained?.();
    }
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.exclusiveHeld) await this.exclusiveHeld;
    let done: () => void = () => undefined;
    this.exclusiveHeld = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      if (this.readers > 0) {
        await new Promise<void>((resolve) => {
          this.drained = resolve;
        });
      }
      this.drained = undefined;
      return await work();
    } finally {
      this.exclusiveHeld = undefined;
      done();
    }
  }
}

/** A segment file open for reading, held by a reader until it calls `release`. */
export interface PinnedSegment {
  segment: number;
  handle: FileHandle;
  release(): void;
}

interface SharedHandle {
  handle: Promise<FileHandle>;
  refs: number;
  retired: boolean;
}

/**
 * Read handles of the segment files, shared and reference-counted. Retention retires them all: a retired handle
 * closes once its last reader releases it, so a reader keeps the file it pinned (an open file outlives its
 * rename or unlink) while the next reader opens what the directory holds now.
 */
export class SegmentHandles {
  private readonly open = new Map<number, SharedHandle>();

  constructor(private readonly dir: string) {}

  async pin(segment: number): Promise<PinnedSegment> {
    let shared = this.open.get(segment);
    if (!shared) {
      const opening = open(join(this.dir, segmentFileName(segment)), 'r');
      shared = { handle: opening, refs: 0, retired: false };
      const entry = shared;
      this.open.set(segment, entry);
      opening.catch(() => {
        if (this.open.get(segment) === entry) this.open.delete(segment);
      });
    }
    shared.refs += 1;
    let handle: FileHandle;
    try {
      handle = await shared.handle;
    } catch (error) {
      shared.refs -= 1;
      throw error;
    }
    const held = shared;
    let released = false;
    return {
      segment,
      handle,
      release: () => {
        if (released) return;
        released = true;
        held.refs -= 1;
        if (held.refs === 0 && held.retired) close(held);
      },
    };
  }

  /** Pins every one of `segments`, or none (what was pinned is released when one fails). */
  async pinAll(segments: readonly number[]): Promise<PinnedSegment[]> {
    const pinned: PinnedSegment[] = [];
    try {
      for (const segment of segments) pinned.push(await this.pin(segment));
    } catch (error) {
      for (const each of pinned) each.release();
      throw error;
    }
    return pinned;
  }

  /** Later pins open the files afresh; the current handles close as their readers let go. */
  retire(): void {
    for (const shared of this.open.values()) {
      shared.retired = true;
      if (shared.refs === 0) close(shared);
    }
    this.open.clear();
  }
}

function close(shared: SharedHandle): void {
  void shared.handle.then(
    (handle) => handle.close().catch(() => undefined),
    () => undefined,
  );
}
