// A read takes a run's positions and then waits for its segment files: a segment sealed meanwhile (its index file
// written, the finished run's positions let go) must not make the read take that segment's records twice.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLog } from '../../src/store/fileLog.js';
import { ReadGate, SegmentHandles, type PinnedSegment } from '../../src/store/fileLogReaders.js';
import { createLogReads } from '../../src/store/fileLogReads.js';
import { recoverLog } from '../../src/store/fileLogRecovery.js';
import { envelope, scratchDir } from './fileLogEvents.js';

let dir: string;
let remove: () => Promise<void>;

beforeEach(async () => {
  ({ dir, remove } = await scratchDir());
});
afterEach(() => remove());

/** Real segment handles whose pins wait until `letThrough()`: the moment a read is between its positions and its files. */
class HeldHandles extends SegmentHandles {
  private opened: () => void = () => undefined;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  held = false;

  override async pinAll(segments: readonly number[]): Promise<PinnedSegment[]> {
    this.held = true;
    await this.gate;
    return super.pinAll(segments);
  }

  letThrough(): void {
    this.opened();
  }
}

describe('a read racing the sealing of a segment', () => {
  it('returns each record once when the run’s positions leave memory while its files are pinned', async () => {
    const log = await createFileLog({ dir });
    const events = [1, 2, 3, 4, 5].map((seq) => envelope('done', seq, seq === 5 ? { type: 'workflow.succeeded' } : {}));
    await log.append(events);
    await log.append([envelope('other', 1)]);
    // Closing writes segment 1's index file; reopened, segment 1 is the active one again, its positions held.
    await log.close();
    const { index } = await recoverLog(dir);
    expect(index.locate('done')?.resident.map((part) => part.segment)).toEqual([1]);

    const handles = new HeldHandles(dir);
    const reads = createLogReads({
      dir,
      index: () => index,
      handles,
      gate: new ReadGate(),
      readChunkBytes: 1024 * 1024,
      committedEnd: () => Infinity,
      steppedOver: () => [],
    });
    const reading = reads.readRun('done', 1);
    expect(handles.held).toBe(true);
    // What the writer does once a sealed segment's index file is written (`onSegmentClosed`).
    index.segmentsOnDiskNow([1]);
    handles.letThrough();
    expect((await reading).map((event) => event.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await reads.readRun('done', 1)).toEqual(events);
    handles.retire();
  });
});
