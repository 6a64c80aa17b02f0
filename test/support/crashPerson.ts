// The person who answers an escalation a crash raised (a non-idempotent call or command cut off mid-flight): they look
// at what happened — the server's side effects, the command's line in effects.log — and supply the result when it
// took effect, or ask for a retry when it did not.
import type { EventEnvelope } from '../../src/events/envelope.js';
import type { ServerSeen } from './crashObserve.js';

export interface Answer {
  /** `retrace resolve` arguments after the run id. */
  args: string[];
  /** `tool:retry` or `step:value`, for the report. */
  label: string;
  /** A retry: the call or command goes again, on a person's word (not a repeat made by retrace). */
  retried: boolean;
}

/** The result the tool gave for the side effect `id`, rebuilt from the server's state as a person would read it. */
function resultOf(tool: string, id: string, server: ServerSeen): unknown {
  const deployment = server.deployments.find((candidate) => candidate['deployment_id'] === id);
  switch (tool) {
    case 'start_background_task_tool':
      return { task_id: id, status: 'queued' };
    case 'promote_to_production_tool':
      return { ...deployment, deployment_id: id, status: 'in_progress', checks: 0 };
    case 'rollback_deployment_tool':
      return {
        status: 'rolled_back',
        environment: deployment?.['environment'] ?? 'production',
        deployment_id: id,
        rolled_back_version: deployment?.['version'],
        restored_version: deployment?.['previous_version'],
      };
    default:
      return { id };
  }
}

export interface Situation {
  waitingOn: string;
  /** The tool of the escalated call; none for a command. */
  tool?: string | undefined;
  events: readonly EventEnvelope[];
  server: ServerSeen;
  /** Executions per step actor from effects.log (commands). */
  executions: ReadonlyMap<string, number>;
}

export function answerEscalation({ waitingOn, tool, events, server, executions }: Situation): Answer {
  if (tool !== undefined) {
    // Effects of this tool the log does not know as a result yet: the cut-off call took effect.
    const known = events.filter((event) => event.type === 'toolcall.succeeded' && event.data['tool'] === tool).length;
    const effects = server.effects.filter((effect) => effect.tool === tool);
    const unknown = effects.slice(known);
    const last = unknown.at(-1);
    if (last === undefined) return { args: ['--action', 'retry'], label: `${tool}:retry`, retried: true };
    const value = resultOf(tool, last.id, server);
    return { args: ['--action', 'value', '--value', JSON.stringify(value)], label: `${tool}:value`, retried: false };
  }
  if ((executions.get(waitingOn) ?? 0) > 0) {
    const value = { exit_code: 0, stdout: '', stderr: '' };
    return {
      args: ['--action', 'value', '--value', JSON.stringify(value)],
      label: `${waitingOn}:value`,
      retried: false,
    };
  }
  return { args: ['--action', 'retry'], label: `${waitingOn}:retry`, retried: true };
}
