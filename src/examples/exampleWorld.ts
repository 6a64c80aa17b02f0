// The example server's memory: its state (optionally kept in a file across restarts), its scenario and its clock.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { systemClock, type Clock } from '../common/clock.js';
import { ErrorCode, RetraceError } from '../common/errors.js';
import type { ExamplePlan } from './examplePlan.js';
import { ExampleState } from './exampleState.js';
import { sampleSchedules } from './scheduleRules.js';

/** What a tool says about its failure beyond the text, as a real server's structured error would. */
export interface ToolFailureDetails {
  /** `error.type` of the answer (`conflict`, …). */
  type: string;
  /** How long the caller should wait before trying again, in seconds (`error.retry_after`). */
  retryAfterSeconds?: number;
}

/**
 * A tool's failure, thrown from its handler: the SDK's McpServer answers it as an `isError` result with this text;
 * one with details is answered by the example server with the text and `{error: {type, message, retry_after}}`.
 */
export class ToolFailure extends Error {
  override readonly name = 'ToolFailure';

  constructor(
    message: string,
    readonly details?: ToolFailureDetails,
  ) {
    super(message);
  }
}

/** A ToolFailure by its name, not `instanceof`: true across duplicate copies of this module too. */
export function isToolFailure(value: unknown): value is ToolFailure {
  return value instanceof Error && value.name === 'ToolFailure';
}

export interface ExampleWorldOptions {
  plan: ExamplePlan;
  /** Kept here after every call and read back at start, so a restarted server (a child per run) goes on where it was. */
  stateFile?: string | undefined;
  clock?: Clock;
}

export class ExampleWorld {
  readonly state: ExampleState;
  readonly clock: Clock;
  private scenario: Pick<ExamplePlan, 'tasks' | 'deployments'>;

  constructor(private readonly options: ExampleWorldOptions) {
    this.clock = options.clock ?? systemClock;
    this.scenario = { tasks: options.plan.tasks, deployments: options.plan.deployments };
    this.state =
      loadState(options.stateFile) ?? ExampleState.parse({ schedules: sampleSchedules(), ...options.plan.state });
  }

  get tasks(): ExamplePlan['tasks'] {
    return this.scenario.tasks;
  }

  get deployments(): ExamplePlan['deployments'] {
    return this.scenario.deployments;
  }

  setScenario(plan: Pick<ExamplePlan, 'tasks' | 'deployments'>): void {
    this.scenario = { tasks: plan.tasks, deployments: plan.deployments };
  }

  /** `task-0001`, `dep-0002`, …: one counter, so ids never repeat within the state. */
  nextId(prefix: string): string {
    const id = `${prefix}-${String(this.state.next_id).padStart(4, '0')}`;
    this.state.next_id += 1;
    return id;
  }

  recordEffect(tool: string, id: string): void {
    this.state.effects.push({ tool, id });
  }

  /** Writes the state file (whole, then renamed over the old one, so a kill never leaves half a file). */
  save(): void {
    const file = this.options.stateFile;
    if (file === undefined) return;
    writeFileSync(`${file}.tmp`, JSON.stringify(this.state, null, 2));
    renameSync(`${file}.tmp`, file);
  }
}

function loadState(file: string | undefined): ExampleState | undefined {
  if (file === undefined || !existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new RetraceError(ErrorCode.config, `state file is not JSON: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  const parsed = ExampleState.safeParse(json);
  if (!parsed.success) {
    throw new RetraceError(ErrorCode.config, `state file: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`, {
      location: { file },
    });
  }
  return parsed.data;
}
