// One walk over a machine's state nodes: the chart (states, transitions, invocations) every printer and test reads.
import type { AnyStateMachine, AnyStateNode } from 'xstate';

export type ChartStateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface ChartState {
  /** The state node's id (`toolCall.calling`, or the `id` the config gave it). */
  id: string;
  key: string;
  type: ChartStateType;
  /** The id of the child entered first (compound states). */
  initial?: string;
  /** The `src` of each actor the state invokes, by name. */
  invokes: string[];
  description?: string;
  children: ChartState[];
}

/** How a transition is taken: an event, eventless (`always`), a delay (`after`), an actor's end, a state's end. */
export type ChartTransitionKind = 'event' | 'always' | 'after' | 'done' | 'error' | 'stateDone';

export interface ChartTransition {
  source: string;
  /** Target state ids; empty for a transition that stays (targetless: actions only, or an ignored event). */
  targets: string[];
  kind: ChartTransitionKind;
  /** The event type as the machine sees it (`xstate.after.cooldown.circuitBreaker.open`; '' for always). */
  eventType: string;
  /** What a diagram shows: `RETRY.DUE`, `always`, `after cooldown`, `done: attempt`, `error: attempt`. */
  trigger: string;
  guard?: string;
  actions: string[];
  reenter: boolean;
}

export interface MachineChart {
  id: string;
  root: ChartState;
  /** In document order: a state's transitions follow its own, then its children's. */
  transitions: ChartTransition[];
}

/** The chart of a machine: every state node and every transition, once. */
export function chartOf(machine: AnyStateMachine): MachineChart {
  const transitions: ChartTransition[] = [];
  const root = walk(machine.root, transitions);
  return { id: machine.id, root, transitions };
}

/** Every state of a chart, depth first (the root first). */
export function chartStates(chart: MachineChart): ChartState[] {
  const states: ChartState[] = [];
  const visit = (state: ChartState) => {
    states.push(state);
    state.children.forEach(visit);
  };
  visit(chart.root);
  return states;
}

/** One line per transition, the same for equal transitions: how tests and printers tell edges apart. */
export function transitionLabel(transition: ChartTransition): string {
  const guard = transition.guard === undefined ? '' : ` [${transition.guard}]`;
  return `${transition.trigger}${guard}`;
}

function walk(node: AnyStateNode, transitions: ChartTransition[]): ChartState {
  const invokes = node.invoke.map((definition) => srcName(definition.src));
  const invokeSrc = new Map(node.invoke.map((definition) => [definition.id, srcName(definition.src)]));
  const initialTarget = node.type === 'compound' ? node.initial.target[0] : undefined;
  for (const [eventType, definitions] of node.transitions) {
    for (const definition of definitions) transitions.push(toTransition(node, eventType, definition, invokeSrc));
  }
  for (const definition of node.always ?? []) transitions.push(toTransition(node, '', definition, invokeSrc));
  const children = Object.values(node.states).map((child) => walk(child, transitions));
  return {
    id: node.id,
    key: node.key,
    type: node.type,
    ...(initialTarget ? { initial: initialTarget.id } : {}),
    invokes,
    ...(node.description === undefined ? {} : { description: node.description }),
    children,
  };
}

type TransitionDefinition = NonNullable<AnyStateNode['always']>[number];

function toTransition(
  node: AnyStateNode,
  eventType: string,
  definition: TransitionDefinition,
  invokeSrc: Map<string, string>,
): ChartTransition {
  const { kind, trigger } = triggerOf(node, eventType, invokeSrc);
  const guard = guardName(definition.guard);
  return {
    source: node.id,
    targets: (definition.target ?? []).map((target: AnyStateNode) => target.id),
    kind,
    eventType,
    trigger,
    ...(guard === undefined ? {} : { guard }),
    actions: definition.actions.map(actionName),
    reenter: definition.reenter,
  };
}

const AFTER = 'xstate.after.';
const DONE_ACTOR = 'xstate.done.actor.';
const ERROR_ACTOR = 'xstate.error.actor.';
const DONE_STATE = 'xstate.done.state.';

function triggerOf(
  node: AnyStateNode,
  eventType: string,
  invokeSrc: Map<string, string>,
): { kind: ChartTransitionKind; trigger: string } {
  if (eventType === '') return { kind: 'always', trigger: 'always' };
  if (eventType.startsWith(AFTER)) {
    // `xstate.after.<delay>.<state id>`: the delay is a name from setup() or a number of milliseconds.
    const delay = eventType.slice(AFTER.length, eventType.length - node.id.length - 1);
    return { kind: 'after', trigger: `after ${/^\d+$/.test(delay) ? `${delay} ms` : delay}` };
  }
  if (eventType.startsWith(DONE_ACTOR)) {
    const id = eventType.slice(DONE_ACTOR.length);
    return { kind: 'done', trigger: `done: ${invokeSrc.get(id) ?? id}` };
  }
  if (eventType.startsWith(ERROR_ACTOR)) {
    const id = eventType.slice(ERROR_ACTOR.length);
    return { kind: 'error', trigger: `error: ${invokeSrc.get(id) ?? id}` };
  }
  if (eventType.startsWith(DONE_STATE)) return { kind: 'stateDone', trigger: 'done' };
  return { kind: 'event', trigger: eventType };
}

function srcName(src: unknown): string {
  if (typeof src === 'string') return src;
  const id = (src as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' ? id : 'inline';
}

/** A guard by name: `name`, `name(params)` when its params are data, the builtin's type for `not()`/`and()`. */
export function guardName(guard: unknown): string | undefined {
  if (guard === undefined) return undefined;
  if (typeof guard === 'string') return guard;
  if (typeof guard === 'function') {
    const type = (guard as { type?: unknown }).type;
    return typeof type === 'string' ? type : 'inline';
  }
  const { type, params } = guard as { type?: unknown; params?: unknown };
  const name = typeof type === 'string' ? type : 'inline';
  return isPlainData(params) ? `${name}(${describeParams(params)})` : name;
}

/** An action by name: its `type` (a named action, or a builtin such as `xstate.raise`). */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  const type = (action as { type?: unknown } | undefined)?.type;
  return typeof type === 'string' ? type : 'inline';
}

function isPlainData(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeParams(params: Record<string, unknown>): string {
  const entries = Object.entries(params);
  // One param (a workflow's condition): its value says enough.
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only) return typeof only[1] === 'string' ? only[1] : JSON.stringify(only[1]);
  return entries
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}
