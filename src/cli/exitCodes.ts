// Exit codes of the `retrace` command: one per outcome, so scripts can tell them apart.
import type { OutcomeStatus } from '../machines/toolCallTypes.js';
import type { WorkflowStatus } from '../machines/workflowTypes.js';

export const ExitCode = {
  ok: 0,
  failed: 1,
  escalated: 2,
  skipped: 3,
  /** A workflow run cancelled (by SIGINT or a cancel): 128 + SIGINT, as shells report an interrupted command. */
  cancelled: 130,
  usage: 64,
  /** EX_NOINPUT: no run with that id in the log (`retrace status RUN`, `retrace cancel RUN`). */
  unknownRun: 66,
  /** The input file is invalid (sysexits EX_DATAERR): `retrace validate` on a bad workflow. */
  invalid: 65,
  /** EX_DATAERR as well: the file log has damaged bytes in the middle (E_LOG_CORRUPT). */
  logCorrupt: 65,
  unavailable: 69,
  /** EX_IOERR: the event store could not write (a full disk, a read-only data directory): E_STORE. */
  storeFailed: 74,
  /** EX_TEMPFAIL: another process holds the file log (E_LOG_LOCKED); trying again later may work. */
  logLocked: 75,
  /** EX_TEMPFAIL as well: `retrace cancel --wait N` asked, but the run had not ended after N seconds. */
  notEndedYet: 75,
  config: 78,
} as const;

export function exitCodeFor(status: OutcomeStatus): number {
  switch (status) {
    case 'succeeded':
    case 'fallback':
    case 'cached':
    case 'partial':
      return ExitCode.ok;
    case 'skipped':
      return ExitCode.skipped;
    case 'escalated':
      return ExitCode.escalated;
    case 'failed':
      return ExitCode.failed;
  }
}

/** `retrace run`: succeeded 0, failed 1, escalated 2 (a person must decide), cancelled 130. */
export function exitCodeForWorkflow(status: Exclude<WorkflowStatus, 'running'>): number {
  switch (status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'failed':
      return ExitCode.failed;
    case 'escalated':
      return ExitCode.escalated;
    case 'cancelled':
      return ExitCode.cancelled;
  }
}
