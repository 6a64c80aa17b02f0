// Envelopes and scratch directories for the file log tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventEnvelope } from '../../src/events/envelope.js';

export function envelope(runId: string, seq: number, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    v: 1,
    id: `${runId}-${seq}`,
    runId,
    actorId: `${runId}/call`,
    seq,
    ts: 1_700_000_000_000 + seq,
    type: 'toolcall.attempt.started',
    data: { attempt: seq, note: 'tab\there, newline\nhere, "quoted", ,"data": and ünïcödé' },
    ...overrides,
  };
}

/** `count` events of one run, seq from `fromSeq`. */
export function runEvents(runId: string, count: number, fromSeq = 1): EventEnvelope[] {
  return Array.from({ length: count }, (_, i) => envelope(runId, fromSeq + i));
}

export async function scratchDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'retrace-filelog-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
