// Exit codes of the `retrace` command: one per outcome, so scripts can tell them apart.
import type { OutcomeStatus } from '../machines/toolCallTypes.js';

export const ExitCode = {
  ok: 0,
  failed: 1,
  escalated: 2,
  skipped: 3,
  usage: 64,
  /** The input file is invalid (sysexits EX_DATAERR): `retrace validate` on a bad workflow. */
  invalid: 65,
  unavailable: 69,
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
