// The file log's single-writer lock: a `LOCK` file created exclusively, holding the owner's pid.
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, RetraceError } from '../common/errors.js';
import { isProcessAlive } from '../common/processAlive.js';
import { fileLogIoError } from './fileLogIoError.js';

export interface FileLogLock {
  release(): Promise<void>;
}

async function readOwner(path: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

const NOT_WRITABLE =
  'a process that records needs a writable data directory (commands that only read, such as `retrace runs`, ' +
  'work on a read-only one)';

/** Takes the lock of `dir`; a lock left by a dead process is taken over, a live owner is a clear error. */
export async function acquireLock(dir: string): Promise<FileLogLock> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } catch (error) {
        // A lock without its pid (a full disk) would stall the next opener: it is not left behind.
        await handle.close().catch(() => undefined);
        await unlink(path).catch(() => undefined);
        throw error;
      }
      await handle.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw fileLogIoError(`cannot take the file log's lock: cannot write ${path}`, error, NOT_WRITABLE);
      }
    }
    let owner = await readOwner(path);
    // An empty lock may be an owner between creating the file and writing its pid: look again shortly.
    if (owner === undefined) {
      await sleep(50);
      owner = await readOwner(path);
    }
    if (owner !== undefined && isProcessAlive(owner)) {
      throw new RetraceError(
        ErrorCode.logLocked,
        `the file log in ${dir} is locked by process ${owner} (lock file ${path}): one process writes a log at a ` +
          `time; wait for it to finish or stop it, or use another data directory`,
      );
    }
    // A stale lock (dead owner, or a pid never written by an owner killed mid-creation): take it over.
    await unlink(path).catch(() => undefined);
  }
  throw new RetraceError(
    ErrorCode.logLocked,
    `the file log in ${dir} is locked by another process (lock file ${path} keeps reappearing after being ` +
      `taken over): wait for the other process to finish, then try again`,
  );
}
