// `--inspect [port|sky]` of `retrace run`, `retrace replay` and `retrace serve`: attaches the Stately inspector and says where to look.
import { attachInspector, parseInspectTarget, type AttachedInspector } from '../../actors/statelyInspector.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { inspectRecordedRun } from '../../store/recordedInspection.js';

export async function openInspector(value: string | true): Promise<AttachedInspector> {
  const target = parseInspectTarget(value);
  if (!target) {
    throw new RetraceError(ErrorCode.usage, `--inspect ${String(value)}: expected a port (0: any free one) or sky`);
  }
  const inspector = await attachInspector(target);
  process.stderr.write(`retrace: inspector: ${inspector.describe}\n`);
  return inspector;
}

/** `retrace replay RUN --inspect`: the run's recorded transitions, in log order, through the same inspector. */
export async function feedInspector(value: string | true, events: readonly EventEnvelope[]): Promise<void> {
  const inspector = await openInspector(value);
  try {
    const actors = inspectRecordedRun(events, inspector.sink);
    process.stderr.write(`retrace: inspector: fed ${events.length} events of ${actors} actors; Ctrl-C to stop\n`);
    // The relay is the page's server and replays the run to each viewer that opens it: it stays until interrupted.
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  } finally {
    await inspector.close();
  }
}
