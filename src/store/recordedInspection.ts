// A recorded run fed to the Stately inspector: each actor of its log registered with its machine, each event
// shown as received, and the state it leaves the actor in as a snapshot — the same view a live --inspect gives.
import type { AnyStateMachine } from 'xstate';
import type { EventEnvelope } from '../events/envelope.js';
import { exportedMachines } from '../machines/export/machineCatalog.js';
import { machineConfigJson } from '../machines/export/machineConfig.js';
import { toolCallStatesAfter, type ToolCallStateName } from '../machines/toolCallPath.js';

type SnapshotStatus = 'active' | 'done';

/**
 * A recorded actor as the inspector reads an actor: its session id, its machine's config (sent as its `definition`)
 * and its parent. @statelyai/inspect 0.7 sends neither `info.definition` nor `info.parentId` for an actor given by
 * id alone (it reads both from the actor object), so a recorded actor is given as this object.
 */
export interface RecordedActorRef {
  sessionId: string;
  logic: { config: unknown };
  _parent?: RecordedActorRef | { sessionId: string; send(): void; getSnapshot(): unknown };
  send(): void;
  getSnapshot(): unknown;
}

/** The inspector's calls a recorded run needs (those of @statelyai/inspect's `Inspector`). */
export interface InspectionSink {
  actor(actor: RecordedActorRef, snapshot: { status: SnapshotStatus; value: unknown }): void;
  event(actorId: string, event: { type: string; [key: string]: unknown }): void;
  snapshot(
    actorId: string,
    snapshot: { status: SnapshotStatus; value: unknown; context?: unknown },
    info: { event: { type: string } },
  ): void;
}

/** The state each recorded fact leaves its actor in (facts without one, like `workflow.state.updated`, leave it). */
const stateAfter: Record<string, { value: string; status?: SnapshotStatus }> = {
  'workflow.started': { value: 'running' },
  'workflow.resumed': { value: 'running' },
  'workflow.succeeded': { value: 'succeeded', status: 'done' },
  'workflow.failed': { value: 'failed', status: 'done' },
  'workflow.escalated': { value: 'escalated', status: 'done' },
  'workflow.cancelled': { value: 'cancelled', status: 'done' },
  'workflow.step.started': { value: 'running' },
  'workflow.step.retrying': { value: 'backingOff' },
  'workflow.step.succeeded': { value: 'succeeded', status: 'done' },
  'workflow.step.skipped': { value: 'skipped', status: 'done' },
  'workflow.step.fallback': { value: 'recovered', status: 'done' },
  'workflow.step.failed': { value: 'failed', status: 'done' },
  'workflow.step.cancelled': { value: 'cancelled', status: 'done' },
  'breaker.opened': { value: 'open' },
  'breaker.halfOpened': { value: 'halfOpen' },
  'breaker.closed': { value: 'closed' },
};

/** The tool-call machine's final states (a call's facts take it there: src/machines/toolCallPath.ts). */
const toolCallFinals = new Set<string>([
  'succeeded',
  'partial',
  'cached',
  'skipped',
  'emptyResult',
  'failed',
  'escalated',
  'cancelled',
]);

function machineOf(type: string): AnyStateMachine | undefined {
  if (type.startsWith('toolcall.')) return exportedMachines.toolCall;
  if (type.startsWith('breaker.')) return exportedMachines.circuitBreaker;
  if (type.startsWith('workflow.step.')) return exportedMachines.step;
  if (type.startsWith('workflow.')) return exportedMachines.workflow;
  return undefined;
}

/** Recorded events fed one at a time (a live follower of the log feeds them as they are appended). */
export interface RecordedInspection {
  /** Registers the event's actor the first time it is seen, then shows the event and the state it leads to. */
  feed(envelope: EventEnvelope): void;
  /** How many actors were registered so far. */
  actors(): number;
}

export function createRecordedInspection(sink: InspectionSink): RecordedInspection {
  const configs = new Map<AnyStateMachine, unknown>();
  const registered = new Map<string, RecordedActorRef>();
  const callStates = new Map<string, ToolCallStateName>();
  const ignore = (): void => undefined;
  return {
    actors: () => registered.size,
    feed(envelope) {
      const machine = machineOf(envelope.type);
      if (machine && !registered.has(envelope.actorId)) {
        let config = configs.get(machine);
        if (config === undefined) configs.set(machine, (config = machineConfigJson(machine)));
        const { parentId } = envelope;
        const ref: RecordedActorRef = {
          sessionId: envelope.actorId,
          logic: { config },
          ...(parentId === undefined
            ? {}
            : { _parent: registered.get(parentId) ?? { sessionId: parentId, send: ignore, getSnapshot: ignore } }),
          send: ignore,
          getSnapshot: ignore,
        };
        registered.set(envelope.actorId, ref);
        const initial = (machine.config as { initial?: unknown }).initial;
        sink.actor(ref, { status: 'active', value: typeof initial === 'string' ? initial : machine.id });
      }
      const data = (envelope.data ?? {}) as Record<string, unknown>;
      sink.event(envelope.actorId, { ...data, type: envelope.type });
      let after = stateAfter[envelope.type];
      if (envelope.type.startsWith('toolcall.')) {
        // The call's states, eventless ones included, from the same mapping the run viewer draws.
        const value = toolCallStatesAfter(callStates.get(envelope.actorId), envelope.type, data).at(-1);
        if (value !== undefined) callStates.set(envelope.actorId, value);
        after = value === undefined ? undefined : { value, status: toolCallFinals.has(value) ? 'done' : 'active' };
      }
      if (after) {
        sink.snapshot(
          envelope.actorId,
          { status: after.status ?? 'active', value: after.value, context: data },
          { event: { type: envelope.type } },
        );
      }
    },
  };
}

/** Feeds a run's events in log order; returns how many actors it registered. */
export function inspectRecordedRun(events: readonly EventEnvelope[], sink: InspectionSink): number {
  const inspection = createRecordedInspection(sink);
  for (const envelope of events) inspection.feed(envelope);
  return inspection.actors();
}
