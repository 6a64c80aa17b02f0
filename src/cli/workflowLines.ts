// One human line per step fact of a workflow run on stderr; its tool calls' attempts indented under their step.
import type { RuntimeEvent } from '../actors/runtime.js';
import { formatDurationMs } from '../common/duration.js';
import type { RetraceEvent } from '../events/retraceEvent.js';
import { attemptLine, firstLine } from './attemptLines.js';

export function workflowLine(event: RetraceEvent): string | undefined {
  switch (event.type) {
    case 'workflow.started':
      return event.parentId === undefined
        ? `▶ workflow ${event.data.name} (run ${event.runId})`
        : `▶ sub-workflow ${event.data.name} (${event.actorId})`;
    case 'workflow.step.started':
      return `→ ${event.actorId} (${event.data.stepType})${event.data.attempt > 1 ? ` attempt ${event.data.attempt}` : ''}`;
    case 'workflow.step.succeeded':
      return `✓ ${event.actorId}`;
    case 'workflow.step.skipped':
      return `– ${event.actorId} skipped (when is false)`;
    case 'workflow.step.retrying':
      return `↻ ${event.actorId} attempt ${event.data.attempt} failed: ${firstLine(event.data.error.message)}; retrying in ${formatDurationMs(event.data.delayMs)}`;
    case 'workflow.step.fallback':
      return `↪ ${event.actorId} failed: ${firstLine(event.data.error.message)}; ${event.data.strategy === 'fallback' ? 'using its fallback_value' : 'continuing'}`;
    case 'workflow.step.failed':
      return `✗ ${event.actorId} failed after ${event.data.attempts} attempt${event.data.attempts === 1 ? '' : 's'}: ${firstLine(event.data.error.message)}`;
    case 'workflow.step.cancelled':
      return `■ ${event.actorId} cancelled: ${event.data.reason}`;
    case 'workflow.warning':
      return `! ${event.data.message}`;
    case 'workflow.succeeded':
      return event.parentId === undefined ? `✓ workflow succeeded after ${event.data.steps} steps` : undefined;
    case 'workflow.failed':
      return event.parentId === undefined ? `✗ workflow failed: ${firstLine(event.data.error.message)}` : undefined;
    case 'workflow.escalated':
      return event.parentId === undefined ? `‼ workflow escalated: ${firstLine(event.data.error.message)}` : undefined;
    case 'workflow.resumed':
      return `↺ workflow resumed (${event.data.reason}; ${event.data.stepsReplayed} steps from the log)`;
    case 'workflow.resolved':
      return `✓ ${event.data.stepActorId} resolved: ${event.data.action}${event.data.by === undefined ? '' : ` by ${event.data.by}`}`;
    case 'workflow.cancelled':
      return event.parentId === undefined ? `■ workflow cancelled: ${event.data.reason}` : undefined;
    default: {
      if (!event.type.startsWith('toolcall.')) return undefined;
      // The recorded event in the shape the machine emitted it: the attempt lines read that shape.
      const emitted = {
        ...event.data,
        type: event.type,
        at: event.ts,
        callId: event.actorId,
      } as unknown as RuntimeEvent;
      const line = attemptLine(emitted);
      return line === undefined ? undefined : `    ${line}`;
    }
  }
}
