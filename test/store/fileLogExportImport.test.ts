// A run exported as JSON Lines and imported into another file log; a malformed file imports nothing.
import { Readable, PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createFileLog, type FileLog } from '../../src/store/fileLog.js';
import { exportRun, importRun } from '../../src/store/exportImport.js';
import { envelope, runEvents, scratchDir } from './fileLogEvents.js';

let cleanups: (() => Promise<void>)[] = [];
async function freshLog(): Promise<FileLog> {
  const { dir, remove } = await scratchDir();
  const log = await createFileLog({ dir });
  cleanups.push(async () => {
    await log.close();
    await remove();
  });
  return log;
}

beforeEach(() => {
  cleanups = [];
});
afterEach(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function exported(log: FileLog, runId: string): Promise<string> {
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  await exportRun(log, runId, sink);
  sink.end();
  return Buffer.concat(chunks).toString('utf8');
}

describe('export and import', () => {
  it('round-trips a run as plain JSON Lines of envelopes', async () => {
    const source = await freshLog();
    const events = [...runEvents('run-a', 4), envelope('run-a', 5, { type: 'toolcall.succeeded' })];
    await source.append([...events, ...runEvents('run-b', 3)]);
    const text = await exported(source, 'run-a');
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown),
    ).toEqual(events);

    const target = await freshLog();
    expect(await importRun(target, Readable.from([text]))).toEqual({ runIds: ['run-a'], events: 5 });
    expect(await target.read('run-a')).toEqual(events);
    expect((await target.runs()).map((run) => run.status)).toEqual(['succeeded']);
    await expect(importRun(target, Readable.from([text]))).rejects.toThrow('run run-a is already in the store');
  });

  it('names the line of a malformed import and imports nothing of the file', async () => {
    const target = await freshLog();
    const good = runEvents('run-c', 2).map((event) => JSON.stringify(event));
    await expect(importRun(target, Readable.from([`${good.join('\n')}\n{"v":1,"id":\n`]), 'run.jsonl')).rejects.toThrow(
      /^not JSON/,
    );
    const error: unknown = await importRun(
      target,
      Readable.from([`${good.join('\n')}\n{"v":1,"id":\n`]),
      'run.jsonl',
    ).catch((caught: unknown) => caught);
    expect((error as { describe(): string }).describe()).toMatch(/^run\.jsonl:3:1: not JSON/);
    const wrongType = JSON.stringify({ ...envelope('run-c', 3), seq: 'three' });
    const typed: unknown = await importRun(
      target,
      Readable.from([`${good.join('\n')}\n\n${wrongType}\n`]),
      'run.jsonl',
    ).catch((caught: unknown) => caught);
    expect((typed as { describe(): string }).describe()).toMatch(/^run\.jsonl:4:1 seq: not an event envelope/);
    expect(await target.read('run-c')).toEqual([]);
  });

  it('refuses to export a run the store does not hold', async () => {
    const source = await freshLog();
    await expect(exportRun(source, 'nobody', new PassThrough())).rejects.toThrow('no run nobody');
  });
});
