// Following a run the server started, resumed or resolved: until it is in the log, or until it ends (with progress).
import { z } from 'zod';
import { observeRun, statusJson, waitForRunEnd } from '../../actors/runObservation.js';
import type { WorkflowHandle } from '../../actors/workflowHost.js';
import type { EventEnvelope } from '../../events/envelope.js';
import type { ToolExtra } from './defineTool.js';
import type { McpHost } from './mcpHost.js';
import { progressReporter } from './progress.js';

/** Settles once the run's first event is recorded (so the log knows the run), or rejects when it cannot start. */
export function firstEventRecorded(handle: WorkflowHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = handle.subscribe(() => {
      stop();
      resolve();
    });
    handle.done.then(
      () => {
        stop();
        resolve();
      },
      (error: unknown) => {
        stop();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** A progress line for the workflow facts worth showing (`step.succeeded deploy`, `escalated`). */
function progressLine(event: EventEnvelope): string | undefined {
  if (!event.type.startsWith('workflow.') || event.type === 'workflow.state.updated') return undefined;
  if (event.type === 'workflow.computed.evaluated') return undefined;
  return `${event.type.slice('workflow.'.length)} ${event.actorId}`;
}

/** `retrace status RUN --json`: for an ended run `{ runId, status, state, result, error? }`, more while it runs. */
export const RunStatus = z.looseObject({
  runId: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'escalated', 'cancelled', 'interrupted']),
  state: z.record(z.string(), z.unknown()),
  result: z.unknown(),
  error: z.looseObject({ type: z.string(), message: z.string() }).optional(),
  currentSteps: z.array(z.string()).optional(),
  steps: z.number().optional(),
  owner: z.looseObject({ pid: z.number(), hostname: z.string() }).optional(),
});
export type RunStatus = z.infer<typeof RunStatus>;

/** The run's status as the log and its owner say now. */
export async function currentStatus(host: McpHost, runId: string): Promise<RunStatus> {
  return RunStatus.parse(statusJson(await observeRun(host.store, host.dataDir, runId)));
}

export interface FollowOptions {
  /** Wait until the run ends or escalates; otherwise the status now (or once `stopAt` holds). */
  wait: boolean;
  timeoutSeconds?: number | undefined;
  /** Only an end after a `workflow.resolved` past this seq counts. */
  afterSeq?: number | undefined;
  /** Stop following at the first event this holds for (a resolution recorded, when not waiting for the end). */
  stopAt?: ((event: EventEnvelope) => boolean) | undefined;
  signal?: AbortSignal | undefined;
}

/** Follows the run in the log (progress notifications per step when the client asked), then its status. */
export async function followRun(
  host: McpHost,
  runId: string,
  extra: ToolExtra,
  options: FollowOptions,
): Promise<RunStatus> {
  if (options.wait || options.stopAt) {
    const report = progressReporter(extra);
    const stopped = new AbortController();
    const signals = [extra.signal, stopped.signal, ...(options.signal ? [options.signal] : [])];
    await waitForRunEnd(host.store, runId, {
      afterSeq: options.afterSeq,
      timeoutMs: options.timeoutSeconds === undefined ? undefined : options.timeoutSeconds * 1000,
      signal: AbortSignal.any(signals),
      onEvent: (event) => {
        const line = progressLine(event);
        if (line !== undefined) report(line);
        if (options.stopAt?.(event)) stopped.abort();
      },
    });
  }
  return currentStatus(host, runId);
}
