// What the crash campaign looks at after each process: the run's events in the file log, the example server's state
// file (its side effects and the calls it received) and the effects.log the shell steps append to.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { foldWorkflowRun } from '../../src/actors/runObservation.js';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { exampleTools } from '../../src/examples/exampleServer.js';
import type { Effect } from '../../src/examples/exampleState.js';
import { policyFromAnnotations } from '../../src/policy/toolPolicy.js';
import { workflowRunFinal } from '../../src/store/projections/workflowRun.js';
import { createFileLog } from '../../src/store/fileLog.js';
import { serverStateFile } from './crashScenarios.js';

/** The run's events, read from the file log while no process holds it. */
export async function readRun(dataDir: string, runId: string): Promise<EventEnvelope[]> {
  if (!existsSync(dataDir)) return [];
  const store = await createFileLog({ dir: dataDir });
  try {
    return await store.read(runId);
  } finally {
    await store.close();
  }
}

export interface ServerSeen {
  effects: Effect[];
  /** Calls received per tool (planned faults included). */
  calls: Record<string, number>;
  deployments: Array<Record<string, unknown>>;
}

/** The example server's state file in `dir` (nothing yet when no server started). */
export async function readServerState(dir: string): Promise<ServerSeen> {
  const file = join(dir, serverStateFile);
  if (!existsSync(file)) return { effects: [], calls: {}, deployments: [] };
  const state = JSON.parse(await readFile(file, 'utf8')) as Partial<ServerSeen>;
  return { effects: state.effects ?? [], calls: state.calls ?? {}, deployments: state.deployments ?? [] };
}

/** Executions per step actor, from the lines of `dir/effects.log`. */
export async function readEffectsLog(dir: string, stepOf: (line: string) => string): Promise<Map<string, number>> {
  const executions = new Map<string, number>();
  const file = join(dir, 'effects.log');
  if (!existsSync(file)) return executions;
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (line === '') continue;
    executions.set(stepOf(line), (executions.get(stepOf(line)) ?? 0) + 1);
  }
  return executions;
}

/** The example tools whose annotations make them not idempotent (a repeat is a second side effect). */
export const nonIdempotentTools: ReadonlySet<string> = new Set(
  exampleTools
    .filter((tool) => {
      const { readOnlyHint, idempotentHint, destructiveHint } = tool.annotations;
      const annotations = {
        ...(readOnlyHint === undefined ? {} : { readOnlyHint }),
        ...(idempotentHint === undefined ? {} : { idempotentHint }),
        ...(destructiveHint === undefined ? {} : { destructiveHint }),
      };
      return policyFromAnnotations(annotations).idempotent === false;
    })
    .map((tool) => tool.name),
);

/** The example tools annotated read-only: a repeat changes nothing the caller owns (a status check may still move on). */
export const readOnlyTools: ReadonlySet<string> = new Set(
  exampleTools.filter((tool) => tool.annotations.readOnlyHint === true).map((tool) => tool.name),
);

/** What a run ended with, as the log says: the parts an uninterrupted run of the same plan must give too. */
export interface RunEnd {
  status: string;
  state: unknown;
  result: unknown;
  error?: string;
  /** The step an escalated run waits on, and the escalation's trigger. */
  waitingOn?: string;
  trigger?: string;
}

/** The escalation the run's last `workflow.escalated` carries (a tool call's; a command's has none). */
export function lastEscalation(
  runId: string,
  events: readonly EventEnvelope[],
): { stepActorId?: string; trigger?: string; tool?: string } | undefined {
  const event = events.findLast((candidate) => candidate.actorId === runId && candidate.type === 'workflow.escalated');
  if (!event) return undefined;
  const error = event.data['error'] as { escalation?: { trigger?: string; tool?: string } } | undefined;
  const stepActorId = event.data['stepActorId'];
  return {
    ...(typeof stepActorId === 'string' ? { stepActorId } : {}),
    ...(error?.escalation?.trigger === undefined ? {} : { trigger: error.escalation.trigger }),
    ...(error?.escalation?.tool === undefined ? {} : { tool: error.escalation.tool }),
  };
}

export function runEnd(runId: string, events: readonly EventEnvelope[]): RunEnd {
  const final = workflowRunFinal(foldWorkflowRun(events));
  const end: RunEnd = { status: final.status, state: final.state, result: final.result ?? null };
  if (final.error !== undefined) end.error = final.error.message;
  if (final.status === 'escalated') {
    const escalation = lastEscalation(runId, events);
    if (escalation?.stepActorId !== undefined) end.waitingOn = escalation.stepActorId;
    if (escalation?.trigger !== undefined) end.trigger = escalation.trigger;
  }
  return end;
}

/**
 * Step actors started again after their `workflow.step.succeeded` (a step start, or a tool call under it), counted per
 * actor: a completed step run twice. The baseline's count is what the workflow itself does (a retried parent).
 */
export function startsAfterSuccess(events: readonly EventEnvelope[]): Map<string, number> {
  const succeeded = new Set<string>();
  const starts = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'workflow.step.succeeded') succeeded.add(event.actorId);
    const again =
      (event.type === 'workflow.step.started' && succeeded.has(event.actorId)) ||
      (event.type === 'toolcall.requested' && event.parentId !== undefined && succeeded.has(event.parentId));
    const actor = event.type === 'toolcall.requested' ? (event.parentId ?? '') : event.actorId;
    if (again) starts.set(actor, (starts.get(actor) ?? 0) + 1);
  }
  return starts;
}

/** Attempts the log recorded per tool (`toolcall.attempt.started`): the server may not have seen more calls than this. */
export function attemptsPerTool(events: readonly EventEnvelope[]): Map<string, number> {
  const attempts = new Map<string, number>();
  for (const event of events) {
    if (event.type !== 'toolcall.attempt.started') continue;
    const tool = String(event.data['tool']);
    attempts.set(tool, (attempts.get(tool) ?? 0) + 1);
  }
  return attempts;
}

export function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}
