// I/O failures of the file log as user-facing errors: what could not be done to which file (and byte), and why.
import { ErrorCode, RetraceError, isRetraceError } from '../common/errors.js';

/** What the usual errno of a storage fault means for the log, in words. */
const explanations: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'the device reported an I/O error',
};

/**
 * An E_STORE error: `what` (e.g. `could not write 512 bytes to /data/segment-0000000001.log at byte 4096`), the
 * system's message and its meaning, and `consequence` (what the log does now). A RetraceError passes through.
 */
export function fileLogIoError(what: string, error: unknown, consequence?: string): RetraceError {
  if (isRetraceError(error)) return error;
  const errno = (error as NodeJS.ErrnoException | undefined)?.code;
  const system = error instanceof Error ? error.message : String(error);
  const meaning = errno === undefined ? undefined : explanations[errno];
  const why = meaning === undefined ? system : `${system} (${meaning})`;
  return new RetraceError(ErrorCode.store, `${what}: ${why}${consequence ? `; ${consequence}` : ''}`, {
    cause: error,
  });
}

/** What a failed write or fsync means for the writer: it stops, and what it acknowledged stays. */
export const WRITER_STOPPED =
  'the log refuses appends from now on (everything acknowledged before is kept); ' +
  'free space or fix the file system, then open the log again';
