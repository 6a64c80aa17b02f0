// Finished runs whose records all sit in sealed segments with index files: what the index keeps of them is the
// summary `runs()` lists and the segments to read, packed as numbers in one typed array (64 bytes a run, beside
// its id), instead of objects. A run that gets another event (a resolved escalation) is taken out again.
import type { RunSummary } from './eventStore.js';

/** A cold run's summary and the contiguous segments holding its records. */
export interface ColdRun {
  summary: RunSummary;
  firstSegment: number;
  lastSegment: number;
}

const FIELDS = 8;
const [STATUS, EVENTS, LAST_SEQ, FIRST_TS, LAST_TS, LAST_TYPE, FIRST_SEGMENT, LAST_SEGMENT] = [0, 1, 2, 3, 4, 5, 6, 7];
const STATUSES: readonly RunSummary['status'][] = ['running', 'succeeded', 'failed', 'escalated', 'cancelled'];

export class ColdRuns {
  private readonly slots = new Map<string, number>();
  private columns = new Float64Array(FIELDS * 256);
  private readonly freeSlots: number[] = [];
  private nextSlot = 0;
  /** Event types, interned: a handful of names shared by every run. */
  private readonly types: string[] = [];
  private readonly typeIds = new Map<string, number>();

  get size(): number {
    return this.slots.size;
  }

  put(cold: ColdRun): void {
    const { summary } = cold;
    let slot = this.slots.get(summary.runId) ?? this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.nextSlot;
      this.nextSlot += 1;
      if (slot * FIELDS >= this.columns.length) {
        const grown = new Float64Array(this.columns.length * 2);
        grown.set(this.columns);
        this.columns = grown;
      }
    }
    this.slots.set(summary.runId, slot);
    const at = slot * FIELDS;
    const columns = this.columns;
    columns[at + STATUS] = STATUSES.indexOf(summary.status);
    columns[at + EVENTS] = summary.events;
    columns[at + LAST_SEQ] = summary.lastSeq;
    columns[at + FIRST_TS] = summary.firstTs;
    columns[at + LAST_TS] = summary.lastTs;
    columns[at + LAST_TYPE] = this.typeId(summary.lastType);
    columns[at + FIRST_SEGMENT] = cold.firstSegment;
    columns[at + LAST_SEGMENT] = cold.lastSegment;
  }

  get(runId: string): ColdRun | undefined {
    const slot = this.slots.get(runId);
    return slot === undefined ? undefined : this.read(runId, slot);
  }

  /** Removes the run and gives back what was kept of it. */
  take(runId: string): ColdRun | undefined {
    const slot = this.slots.get(runId);
    if (slot === undefined) return undefined;
    const cold = this.read(runId, slot);
    this.slots.delete(runId);
    this.freeSlots.push(slot);
    return cold;
  }

  *summaries(): Generator<RunSummary> {
    for (const [runId, slot] of this.slots) yield this.read(runId, slot).summary;
  }

  private read(runId: string, slot: number): ColdRun {
    const at = slot * FIELDS;
    const column = (field: number): number => this.columns[at + field] ?? 0;
    return {
      summary: {
        runId,
        status: STATUSES[column(STATUS)] ?? 'running',
        events: column(EVENTS),
        lastSeq: column(LAST_SEQ),
        firstTs: column(FIRST_TS),
        lastTs: column(LAST_TS),
        lastType: this.types[column(LAST_TYPE)] ?? '',
      },
      firstSegment: column(FIRST_SEGMENT),
      lastSegment: column(LAST_SEGMENT),
    };
  }

  private typeId(type: string): number {
    let id = this.typeIds.get(type);
    if (id === undefined) {
      id = this.types.length;
      this.types.push(type);
      this.typeIds.set(type, id);
    }
    return id;
  }
}
