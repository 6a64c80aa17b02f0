// The file log's errors on the command line: a log held by another process (75), damage in the middle (65).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { createFileLog } from '../../src/store/fileLog.js';
import { segmentFileName } from '../../src/store/fileLogSegment.js';
import { cliTest as it, stderrLines } from '../support/cli.js';
import { envelope } from '../store/fileLogEvents.js';

describe('file log errors on the command line', () => {
  it('exits 75 with E_LOG_LOCKED naming the lock file and the holder while another process holds the log', async ({
    workspace,
  }) => {
    const dataDir = join(workspace.dir, '.retrace');
    const holder = await createFileLog({ dir: dataDir });
    try {
      // Reading commands open a read-only view and need no lock; a writing one waits for it, then gives up.
      const read = await workspace.run(['runs', '--json']);
      expect(read.code, read.stderr).toBe(0);
      const result = await workspace.run(['import', 'run.jsonl'], { env: { RETRACE_LOCK_WAIT_MS: '100' } });
      expect(result.code, result.stderr).toBe(75);
      expect(result.stdout).toBe('');
      expect(stderrLines(result)).toEqual([
        `retrace: the file log in ${dataDir} is locked by process ${process.pid} (lock file ${join(dataDir, 'LOCK')}): ` +
          'one process writes a log at a time; wait for it to finish or stop it, or use another data directory',
      ]);
    } finally {
      await holder.close();
    }
    const after = await workspace.run(['runs', '--json']);
    expect(after.code, after.stderr).toBe(0);
  });

  it('exits 65 with E_LOG_CORRUPT naming the segment and byte, then warns and reads around the damage', async ({
    workspace,
  }) => {
    const dataDir = join(workspace.dir, '.retrace');
    const log = await createFileLog({ dir: dataDir, segmentBytes: 1_600 });
    for (let seq = 1; seq <= 14; seq += 1) await log.append([envelope('run-a', seq)]);
    await log.close();
    const path = join(dataDir, segmentFileName(1));
    const bytes = await readFile(path);
    const second = bytes.indexOf(0x0a) + 1;
    bytes[second + 45] = (bytes[second + 45] ?? 0) ^ 0x01;
    await writeFile(path, bytes);

    // The sealed segment's index file vouches for it at open: the damage shows when the run is read.
    const exported = await workspace.run(['export', 'run-a']);
    expect(exported.code, exported.stderr).toBe(65);
    expect(stderrLines(exported)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^retrace: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte ${second}: checksum mismatch \\(\\d+ bytes damaged\\); kept: every other record`,
        ),
      ),
    ]);

    // The next open scans the segment, names the damage on stderr and reads the rest.
    const again = await workspace.run(['export', 'run-a']);
    expect(again.code, again.stderr).toBe(0);
    expect(stderrLines(again)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^retrace: warning: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at byte ${second}: .*kept: every record before and after it`,
        ),
      ),
    ]);
    expect(again.stdout.trim().split('\n')).toHaveLength(13);
  });
});
