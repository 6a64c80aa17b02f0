// The tools that read runs back from the log: workflow_replay (a run's timeline), workflow_metrics (per tool and per
// workflow), and health.
import { z } from 'zod';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { reportToolMetrics, reportWorkflowMetrics } from '../../store/projections/index.js';
import { replay, replayStore } from '../../store/replay.js';
import { formatWorkflowTimeline } from '../../store/workflowTimelineFormat.js';
import type { EventEnvelope } from '../../events/envelope.js';
import { defineTool } from './defineTool.js';
import type { McpHost } from './mcpHost.js';

/** A run's events; E_UNKNOWN_RUN when the log has none. */
export async function readRunEvents(host: McpHost, runId: string): Promise<EventEnvelope[]> {
  const events = await host.store.read(runId);
  if (events.length === 0) {
    throw new RetraceError(ErrorCode.unknownRun, `no run "${runId}" in the log (see workflow_list with all: true)`);
  }
  return events;
}

const Item = z.looseObject({});

export const workflowReplay = defineTool({
  name: 'workflow_replay',
  description:
    "A run rebuilt from its events alone (`retrace replay`): for a workflow run its timeline — every step with its attempts, backoffs, fallbacks, tool calls, state changes and computed evaluations, with start and end times — and the same as text; for a tool-call run the call's timeline. until_seq cuts the run at that event.",
  input: z.object({
    run_id: z.string().min(1).describe('the run id'),
    until_seq: z.number().int().positive().optional().describe('stop at this event seq: the run as it was then'),
  }),
  output: z.object({
    runId: z.string(),
    kind: z.enum(['workflow', 'tool_call']),
    events: z.number(),
    timeline: Item.optional().describe('the workflow timeline projection (WorkflowTimeline)'),
    text: z.string().optional().describe('the timeline as `retrace replay` prints it'),
    calls: z.array(Item).optional().describe("a tool-call run's timelines"),
  }),
  annotations: { title: 'Replay a run', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    const events = await readRunEvents(host, args.run_id);
    const result = replay(events, args.until_seq === undefined ? {} : { untilSeq: args.until_seq });
    const workflow = result.workflows.get(args.run_id);
    if (workflow) {
      return {
        runId: args.run_id,
        kind: 'workflow' as const,
        events: events.length,
        timeline: { ...workflow },
        text: formatWorkflowTimeline(workflow),
      };
    }
    const calls = [...result.timelines.values()].map((timeline) => ({ ...timeline }));
    return { runId: args.run_id, kind: 'tool_call' as const, events: events.length, calls };
  },
});

export const workflowMetrics = defineTool({
  name: 'workflow_metrics',
  description:
    'Metrics projected from the log (`retrace metrics --json`): per tool calls, errors by class, retries, fallbacks, cache hits, escalations, latency and breaker; per workflow runs by status, duration, steps per second, retries, fallbacks, escalations and per-step figures. run_id: one run only; workflow: one workflow name only.',
  input: z.object({
    run_id: z.string().min(1).optional().describe('one run only'),
    workflow: z.string().min(1).optional().describe('one workflow (by name) only'),
  }),
  output: z.object({ tools: z.array(Item), workflows: z.array(Item) }),
  annotations: { title: 'Metrics', readOnlyHint: true, openWorldHint: false },
  async run(args, host) {
    const result =
      args.run_id === undefined ? await replayStore(host.store) : replay(await readRunEvents(host, args.run_id));
    const now = Date.now();
    const workflows = reportWorkflowMetrics(result.workflowMetrics.values()).filter(
      (report) => args.workflow === undefined || report.name === args.workflow,
    );
    if (args.workflow !== undefined && workflows.length === 0) {
      throw new RetraceError(
        ErrorCode.badArguments,
        `workflow: no runs of a workflow named "${args.workflow}" in the log`,
      );
    }
    const tools = [...result.metrics.values()].map((metrics) => ({ ...reportToolMetrics(metrics, now) }));
    return { tools, workflows: workflows.map((report) => ({ ...report })) };
  },
});

export const health = defineTool({
  name: 'health',
  description:
    "The server's health: version, uptime, data directory, runs executing here, circuit breakers not closed.",
  input: z.object({}),
  output: z.object({
    status: z.literal('ok'),
    version: z.string(),
    uptimeSeconds: z.number(),
    dataDir: z.string(),
    runsExecuting: z.number(),
    runsWaiting: z.number(),
    breakersNotClosed: z.array(z.object({ key: z.string(), state: z.string() })),
  }),
  annotations: { title: 'Health', readOnlyHint: true, openWorldHint: false },
  run(_args, host) {
    const runs = host.runtime.list();
    return Promise.resolve({
      status: 'ok' as const,
      version: host.version,
      uptimeSeconds: Math.round((Date.now() - host.startedAt) / 1000),
      dataDir: host.dataDir,
      runsExecuting: runs.filter((run) => run.status === 'running').length,
      runsWaiting: runs.filter((run) => run.status === 'escalated').length,
      breakersNotClosed: host.runtime
        .breakers()
        .filter((breaker) => breaker.state !== 'closed')
        .map(({ key, state }) => ({ key, state })),
    });
  },
});
