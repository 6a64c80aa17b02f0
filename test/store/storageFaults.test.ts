// Storage faults under the file log and the runtime: torn, truncated and bit-flipped segments, a full disk (a small
// tmpfs) and a read-only data directory (a read-only bind mount). Clear errors naming the file and byte, nothing
// acknowledged lost, and no progress reported that could not be made durable.
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/actors/runtime.js';
import { isRetraceError, type RetraceError } from '../../src/common/errors.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { indexFileName } from '../../src/store/fileLogIndexFile.js';
import { encodeRecord } from '../../src/store/fileLogRecord.js';
import { corruptionError } from '../../src/store/fileLogRecovery.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { openFileLogView } from '../../src/store/fileLogView.js';
import { runCli } from '../support/cli.js';
import { bindReadOnly, mountTmpfs, resizeTmpfs, unmount } from '../support/mounts.js';
import { flakyStdioConfig } from '../support/servers.js';
import { envelope, runEvents } from './fileLogEvents.js';

let root: string;
let cases = 0;
/** Every mount point made, unmounted in afterAll whatever happened. */
const mounts: string[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'retrace-storage-faults-'));
});
afterAll(async () => {
  for (const dir of mounts.reverse()) unmount(dir);
  await rm(root, { recursive: true, force: true });
});

const fresh = async (): Promise<string> => {
  const dir = join(root, `case-${(cases += 1)}`);
  await mkdir(dir, { recursive: true });
  return dir;
};

/** A tmpfs of `bytes` (a disk that fills up), unmounted after the suite. */
async function smallDisk(bytes: number): Promise<string> {
  const dir = join(await fresh(), 'disk');
  await mountTmpfs(dir, bytes);
  mounts.push(dir);
  return dir;
}

async function rejection(promise: Promise<unknown>): Promise<RetraceError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isRetraceError(error)) throw new Error(`expected a RetraceError, got ${String(error)}`);
  return error;
}

/** 20 events of run-a, appended one at a time so that they spread over several sealed segments. */
async function sealedSegments(dir: string): Promise<void> {
  const log = await createFileLog({ dir, segmentBytes: 1_600 });
  for (const event of runEvents('run-a', 20)) await log.append([event]);
  await log.close();
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const seqsOf = (events: readonly EventEnvelope[]) => events.map((event) => event.seq);
const upTo = (count: number) => Array.from({ length: count }, (_, i) => i + 1);

/** Appends one event at a time until the log refuses one: how many were acknowledged, and the refusal. */
async function appendUntilRefused(dir: string, runId: string): Promise<{ acknowledged: number; error: RetraceError }> {
  const log = await createFileLog({ dir });
  let acknowledged = 0;
  try {
    for (let seq = 1; seq <= 100_000; seq += 1) {
      const refused = await log.append([envelope(runId, seq)]).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (refused !== undefined) {
        if (!isRetraceError(refused)) throw new Error(`expected a RetraceError, got ${String(refused)}`);
        // Refused from now on, with the same error, at once.
        expect(log.writable()).toEqual({ writable: false, reason: refused.message });
        expect((await rejection(log.append([envelope(runId, seq + 1)]))).message).toBe(refused.message);
        return { acknowledged, error: refused };
      }
      acknowledged = seq;
    }
    throw new Error('the disk never filled up');
  } finally {
    await log.close();
  }
}

describe('torn, truncated and bit-flipped segments', () => {
  it('cuts a record torn at the tail, reports it by file and byte, and keeps every acknowledged record', async () => {
    const dir = await fresh();
    const log = await createFileLog({ dir });
    await log.append(runEvents('run-a', 8));
    await log.close();
    const path = join(dir, segmentFileName(1));
    const size = (await stat(path)).size;
    const torn = encodeRecord(JSON.stringify(envelope('run-a', 9)));
    await appendFile(path, torn.slice(0, Math.floor(torn.length / 3)));

    const reopened = await createFileLog({ dir });
    expect(reopened.recoveryReport.tornTail).toEqual({
      segment: segmentFileName(1),
      offset: size,
      bytes: Math.floor(torn.length / 3),
      reason: 'partial record',
    });
    expect(seqsOf(await reopened.read('run-a'))).toEqual(upTo(8));
    expect((await stat(path)).size).toBe(size);
    await reopened.close();
  });

  it('reports a sealed segment cut short (its index file lists records past its end), keeping the rest', async () => {
    const dir = await fresh();
    await sealedSegments(dir);
    const first = join(dir, segmentFileName(1));
    const bytes = await readFile(first);
    const cut = bytes.indexOf('\n') + 1;
    await writeFile(first, bytes.subarray(0, cut));

    const reopened = await createFileLog({ dir });
    const [damage] = reopened.recoveryReport.corrupt;
    expect(damage).toMatchObject({ segment: segmentFileName(1), offset: cut, bytes: bytes.length - cut });
    expect(damage?.reason).toMatch(/^segment truncated: \d+ record\(s\) its index file lists end past its last byte$/);
    expect(corruptionError(dir, damage!, true).message).toMatch(new RegExp(`^${escape(first)} at byte ${cut}: `));
    const seqs = seqsOf(await reopened.read('run-a'));
    expect(seqs[0]).toBe(1);
    expect(seqs.at(-1)).toBe(20);
    await reopened.close();
  });

  it('reports a bit flipped in a sealed segment and in the last record of the log, and reads around both', async () => {
    const dir = await fresh();
    await sealedSegments(dir);
    const flip = async (segment: number, marker: string) => {
      const path = join(dir, segmentFileName(segment));
      const bytes = await readFile(path);
      const at = bytes.indexOf(marker);
      bytes[at] = (bytes[at] ?? 0) ^ 0x04;
      await writeFile(path, bytes);
      return bytes.lastIndexOf('\n', at) + 1;
    };
    const middle = await flip(1, '"seq":2,');
    const segments = (await readdir(dir)).filter((name) => name.endsWith('.log')).length;
    expect(segments).toBeGreaterThan(2);
    const tail = await flip(segments, '"seq":20,');

    // `full` checks sealed segments against their index files' CRC: both flips are found at open.
    const reopened = await createFileLog({ dir, verify: 'full' });
    expect(reopened.recoveryReport.corrupt).toEqual([
      { segment: segmentFileName(1), offset: middle, bytes: expect.any(Number), reason: 'checksum mismatch' },
      { segment: segmentFileName(segments), offset: tail, bytes: expect.any(Number), reason: 'checksum mismatch' },
    ]);
    // A flipped whole record at the tail is damage, not a torn write: reported and left in place, not cut.
    expect(reopened.recoveryReport.tornTail).toBeUndefined();
    expect(seqsOf(await reopened.read('run-a'))).toEqual(upTo(19).filter((seq) => seq !== 2));
    await reopened.append([envelope('run-a', 21)]);
    expect(seqsOf(await reopened.read('run-a', 19))).toEqual([19, 21]);
    await reopened.close();
  });

  it('fails a read through a damaged index file with E_LOG_CORRUPT naming the segment and byte, never a wrong record', async () => {
    const dir = await fresh();
    const log = await createFileLog({ dir });
    await log.append([...runEvents('run-a', 3), ...runEvents('run-b', 3)]);
    await log.close();
    // Point run-b's first record at run-a's first: valid JSON, the right size, the wrong place.
    const indexPath = join(dir, indexFileName(1));
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as { runs: [string, number[]][] };
    const runB = index.runs.find(([runId]) => runId === 'run-b');
    const runBFirst = runB?.[1][0];
    runB![1][0] = 0;
    await writeFile(indexPath, JSON.stringify(index));

    const reopened = await createFileLog({ dir });
    const error = await rejection(reopened.read('run-b'));
    expect(error.code).toBe('E_LOG_CORRUPT');
    expect(error.message).toMatch(
      new RegExp(`^${escape(join(dir, segmentFileName(1)))} at byte 0: the index says run run-b seq 1 is here, `),
    );
    await reopened.close();
    // Dropped, and not written again at close: the next open scans the segment and reads run-b where it is.
    await expect(stat(indexPath)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await createFileLog({ dir });
    expect(seqsOf(await again.read('run-b'))).toEqual([1, 2, 3]);
    expect(runBFirst).toBeGreaterThan(0);
    await again.close();
  });
});

describe('a full disk', () => {
  it('refuses the append that does not fit with E_STORE naming the segment and byte, and loses nothing acknowledged', async () => {
    const disk = await smallDisk(256 * 1024);
    const dir = join(disk, 'data');
    const { acknowledged, error } = await appendUntilRefused(dir, 'run-a');
    expect(acknowledged).toBeGreaterThan(100);
    expect(error.code).toBe('E_STORE');
    const segment = join(dir, segmentFileName(1));
    expect(error.message).toMatch(
      new RegExp(
        `^could not write \\d+ of \\d+ bytes to ${escape(segment)} at byte \\d+: ENOSPC: no space left on device, ` +
          'write \\(the disk is full\\); the log refuses appends from now on \\(everything acknowledged before is kept\\)',
      ),
    );
    // With room again: the torn record the failed write left is cut, every acknowledged one is there, appends go on.
    resizeTmpfs(disk, 1024 * 1024);
    const reopened = await createFileLog({ dir });
    const failedAt = Number(/at byte (\d+)/.exec(error.message)?.[1]);
    if (reopened.recoveryReport.tornTail) expect(reopened.recoveryReport.tornTail.offset).toBeLessThanOrEqual(failedAt);
    expect(reopened.recoveryReport.corrupt).toEqual([]);
    expect(seqsOf(await reopened.read('run-a'))).toEqual(upTo(acknowledged));
    await reopened.append([envelope('run-a', acknowledged + 1)]);
    expect(seqsOf(await reopened.read('run-a', acknowledged))).toEqual([acknowledged, acknowledged + 1]);
    await reopened.close();
  });

  it('fails a tool call whose events could not be recorded, and never reports one that was not', async () => {
    const disk = await smallDisk(256 * 1024);
    const dir = join(disk, 'data');
    const log = await createFileLog({ dir });
    const runtime = createRuntime({ config: { servers: { flaky: flakyStdioConfig() } }, store: log });
    const succeeded: string[] = [];
    let failure: unknown;
    try {
      for (let call = 1; call <= 2_000 && failure === undefined; call += 1) {
        await runtime.callTool('flaky', 'echo', { message: `call ${call} ${'x'.repeat(400)}` }).then(
          (outcome) => {
            expect(outcome.status).toBe('succeeded');
            succeeded.push(outcome.runId);
          },
          (error: unknown) => {
            failure = error;
          },
        );
      }
    } finally {
      await runtime.close();
      await log.close();
    }
    expect(isRetraceError(failure), String(failure)).toBe(true);
    expect((failure as RetraceError).code).toBe('E_STORE');
    expect((failure as RetraceError).message).toMatch(
      new RegExp(
        `^run \\S+ could not be recorded: could not write \\d+ of \\d+ bytes to ${escape(join(dir, segmentFileName(1)))} at byte \\d+: ENOSPC`,
      ),
    );
    expect(succeeded.length).toBeGreaterThan(10);
    // Every call reported as succeeded is in the log, to its terminal event.
    resizeTmpfs(disk, 4 * 1024 * 1024);
    const reopened = await createFileLog({ dir });
    for (const runId of succeeded) expect((await reopened.read(runId)).at(-1)?.type).toBe('toolcall.succeeded');
    await reopened.close();
  }, 60_000);

  it('makes `retrace run` exit 74 with the store error, not report the workflow as succeeded', async () => {
    const disk = await smallDisk(256 * 1024);
    const work = await fresh();
    const file = join(work, 'fill.yaml');
    await writeFile(
      file,
      [
        'name: fill',
        'state: { count: 0 }',
        'steps:',
        '  - type: foreach',
        '    items: "{{ [1..400] }}"',
        '    steps:',
        '      - type: state_update',
        '        path: count',
        '        operation: increment',
        '  - type: return',
        '    value: "{{ state.count }}"',
        '',
      ].join('\n'),
    );
    const dir = join(disk, 'data');
    const result = await runCli(['run', file, '--data-dir', dir, '--json'], { cwd: work, timeoutMs: 60_000 });
    expect(result.code, result.stderr).toBe(74);
    expect(result.stderr).toMatch(
      new RegExp(
        `retrace: run \\S+ could not be recorded: could not write \\d+ of \\d+ bytes to ${escape(join(dir, segmentFileName(1)))} at byte \\d+: ENOSPC`,
      ),
    );
    expect(result.stdout).not.toMatch(/"status":\s*"succeeded"/);
    // What was acknowledged is there; the run did not end in the log.
    resizeTmpfs(disk, 4 * 1024 * 1024);
    const log = await createFileLog({ dir });
    const [run] = await log.runs();
    expect(run?.status).toBe('running');
    expect(run?.events).toBeGreaterThan(10);
    await log.close();
  }, 90_000);
  it('stops a workflow at the first event it could not record: the steps after it never run', async () => {
    const disk = await smallDisk(256 * 1024);
    const work = await fresh();
    const lines = join(work, 'lines.txt');
    const file = join(work, 'lines.yaml');
    const items = 400;
    // Each step appends its item to a file outside the full disk (idempotent: it does not wait for its start to be
    // durable) and prints 2 kB, so that the log fills after some of them.
    await writeFile(
      file,
      [
        'name: lines',
        'steps:',
        '  - type: foreach',
        `    items: "{{ [1..${items}] }}"`,
        '    steps:',
        '      - id: line',
        '        type: shell_command',
        '        idempotent: true',
        `        command: [sh, -c, 'echo "$1" >> "$2"; printf "%02000d" 0', sh, "{{ item }}", ${JSON.stringify(lines)}]`,
        '      - type: state_update',
        '        path: last',
        '        value: "{{ item }}"',
        '',
      ].join('\n'),
    );
    const dir = join(disk, 'data');
    const log = await createFileLog({ dir });
    const runtime = createRuntime({ config: { servers: {} }, store: log });
    let error: RetraceError;
    let status: string;
    try {
      const handle = runtime.spawn(file);
      error = await rejection(handle.done);
      status = handle.snapshot().status;
    } finally {
      await runtime.close();
      await log.close();
    }
    expect(error.code).toBe('E_STORE');
    expect(error.message).toMatch(
      new RegExp(
        `^run \\S+ could not be recorded: could not write \\d+ of \\d+ bytes to ${escape(join(dir, segmentFileName(1)))} at byte \\d+: ENOSPC`,
      ),
    );
    expect(status).toBe('failed');
    const written = (await readFile(lines, 'utf8')).split('\n').filter((line) => line !== '');
    // The steps ran in order up to where the disk filled, and none after: their lines are absent.
    expect(written).toEqual(upTo(written.length).map(String));
    expect(written.length).toBeGreaterThan(5);
    expect(written.length).toBeLessThan(items);
    resizeTmpfs(disk, 4 * 1024 * 1024);
    const reopened = await createFileLog({ dir });
    const [run] = await reopened.runs();
    const events = run ? await reopened.read(run.runId) : [];
    await reopened.close();
    // The run did not end in the log (nothing was recorded after the failure). Only the few steps that started while
    // the failing append was in flight (idempotent steps do not wait for it) ran past what the log holds.
    expect(run?.status).toBe('running');
    const started = events.filter(
      (event) => event.type === 'workflow.step.started' && (event.data as { stepId?: string }).stepId === 'line',
    ).length;
    expect(started).toBeGreaterThan(0);
    expect(written.length).toBeLessThanOrEqual(started + 5);
  }, 90_000);
});

describe('a read-only data directory', () => {
  let source: string;
  let readOnly: string;

  beforeAll(async () => {
    source = await fresh();
    const log = await createFileLog({ dir: source });
    await log.append(runEvents('run-a', 5));
    await log.close();
    readOnly = join(await fresh(), 'ro');
    await bindReadOnly(source, readOnly);
    mounts.push(readOnly);
  });

  it('refuses to open the log for writing with E_STORE naming the lock file and why', async () => {
    const error = await rejection(createFileLog({ dir: readOnly }));
    expect(error.code).toBe('E_STORE');
    expect(error.message).toBe(
      `cannot take the file log's lock: cannot write ${join(readOnly, 'LOCK')}: EROFS: read-only file system, open ` +
        `'${join(readOnly, 'LOCK')}' (the file system is read-only); a process that records needs a writable data ` +
        'directory (commands that only read, such as `retrace runs`, work on a read-only one)',
    );
  });

  it('still reads: the read-only view, and `retrace runs`', async () => {
    const view = await openFileLogView({ dir: readOnly });
    expect(seqsOf(await view.read('run-a'))).toEqual(upTo(5));
    await view.close();
    const result = await runCli(['runs', '--data-dir', readOnly], { cwd: source });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('run-a');
  });

  it('makes `retrace run` exit 74 naming the data directory, before running anything', async () => {
    const work = await fresh();
    const file = join(work, 'one.yaml');
    await writeFile(file, 'name: one\nsteps:\n  - type: return\n    value: 1\n');
    const result = await runCli(['run', file, '--data-dir', readOnly], { cwd: work });
    expect(result.code, result.stderr).toBe(74);
    expect(result.stderr).toContain(`cannot write ${join(readOnly, 'LOCK')}: EROFS`);
    expect(result.stdout).toBe('');
  });
});
