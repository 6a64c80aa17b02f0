// A workflow execution's mutable record (inputs, state, computed, step results) and the small helpers steps share.
import { createHash } from 'node:crypto';
import type { ExecuteFailure, StepError } from '../machines/workflowTypes.js';
import type { CompiledWorkflow } from '../workflow/compiledWorkflow.js';
import type { StepRecord } from '../workflow/scope.js';
import type { ReplayLog } from './workflowReplay.js';

/** One workflow's execution (the run's top-level workflow, or a sub-workflow inside it). */
export interface WorkflowExecution {
  runId: string;
  workflow: CompiledWorkflow;
  /** The workflow actor's id: the runId at the top, `<step actor>:workflow` for a sub-workflow. */
  actorId: string;
  /** Prefix of its steps' actor ids (empty at the top). */
  prefix: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
  computed: Record<string, unknown>;
  steps: Record<string, StepRecord>;
  /** Only the variables the workflow's `env:` lists. */
  env: Record<string, string>;
  /** Set by a `return` step: the run stops and this is its result. */
  returned: { value: unknown } | undefined;
  stepsExecuted: number;
  /** The actor ids of the steps running now. */
  running: Set<string>;
  /** State updates one at a time: a recompute must not interleave with another branch's update. */
  updates: Promise<unknown>;
  stateWarned: boolean;
  /** Aborted on cancel or the workflow's timeout. */
  controller: AbortController;
  /** Sends the workflow actor CANCEL (set once it runs). */
  cancel?: (reason: string) => void;
  /**
   * Set when the execution is re-entered from its run's log (a resume): its steps' recorded outcomes are taken from
   * `log`, reading the occurrences that began after `since` (the seq its enclosing step attempt started at).
   */
  replay?: { log: ReplayLog; since: number };
}

export function createExecution(options: {
  runId: string;
  workflow: CompiledWorkflow;
  inputs: Record<string, unknown>;
  actorId: string;
  prefix: string;
}): WorkflowExecution {
  const env: Record<string, string> = {};
  for (const name of options.workflow.env) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...options,
    state: structuredClone(options.workflow.initialState),
    computed: {},
    steps: {},
    env,
    returned: undefined,
    stepsExecuted: 0,
    running: new Set(),
    updates: Promise.resolve(),
    stateWarned: false,
    controller: new AbortController(),
  };
}

/** A failure as the step machine expects a rejection to be. */
export function stepFailure(error: StepError, at: number): ExecuteFailure {
  return { error, at };
}

export function isStepFailure(value: unknown): value is ExecuteFailure {
  return typeof value === 'object' && value !== null && 'error' in value && 'at' in value;
}

export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (typeof reason === 'string') return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return reason.message;
  return 'cancelled';
}

const hashes = new WeakMap<CompiledWorkflow, string>();

function isCompiledWorkflow(holder: unknown): boolean {
  return typeof holder === 'object' && holder !== null && 'stepsById' in holder && 'baseDir' in holder;
}

/** sha256 of the workflow's definition (steps, expressions as written, policies), so a resume can tell it changed. */
export function workflowHash(workflow: CompiledWorkflow): string {
  let hash = hashes.get(workflow);
  if (hash === undefined) {
    const text = JSON.stringify(workflow, function (this: unknown, key, value: unknown) {
      if (key === 'location') return undefined;
      // Where a workflow (the run's own or a sub-workflow) was loaded from is not part of its definition; a step's
      // own `path` (a state_update's target) is.
      if ((key === 'path' || key === 'file' || key === 'baseDir') && isCompiledWorkflow(this)) return undefined;
      if (value instanceof Map) return [...(value as Map<unknown, unknown>).entries()];
      if (typeof value === 'object' && value !== null && 'evaluate' in value && 'source' in value) {
        return (value as { source: string }).source;
      }
      return value;
    });
    hash = createHash('sha256').update(text).digest('hex');
    hashes.set(workflow, hash);
  }
  return hash;
}
