// Seed 004's `external_api` and `cleanup_resources`, and the server's own control tools (stats, replacing the plan).
import { z } from 'zod';
import { ExamplePlan } from './examplePlan.js';
import { defineTool, type ExampleTool } from './exampleTool.js';
import { ToolFailure } from './exampleWorld.js';
import { cancelIfActive } from './taskTools.js';

export const supportTools: ExampleTool[] = [
  defineTool({
    name: 'external_api',
    description: 'Reads from an external API (the rotations service): {status: "ok", data}.',
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
    input: z.object({ endpoint: z.string().min(1).default('/rotations'), query: z.string().optional() }),
    run: ({ endpoint, query }, { world }) => {
      const data = world.state.external_data.filter(
        (item) => query === undefined || JSON.stringify(item).toLowerCase().includes(query.toLowerCase()),
      );
      return { status: 'ok', endpoint, data };
    },
  }),
  defineTool({
    name: 'cleanup_resources',
    description:
      'Releases what runs left behind: cancels tasks still queued or running and frees their resources (all, or the given ids).',
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({ resource_ids: z.array(z.string().min(1)).optional(), reason: z.string().optional() }),
    run: ({ resource_ids }, { world }) => {
      const held = world.state.resources;
      const released = resource_ids === undefined ? held : held.filter((resource) => resource_ids.includes(resource));
      const cancelledTasks = released.flatMap((resource) => {
        const taskId = resource.startsWith('task:') ? resource.slice('task:'.length) : undefined;
        return taskId !== undefined && cancelIfActive(world, taskId) ? [taskId] : [];
      });
      world.state.resources = held.filter((resource) => !released.includes(resource));
      world.recordEffect('cleanup_resources', String(released.length));
      return { released, cancelled_tasks: cancelledTasks, remaining: world.state.resources.length };
    },
  }),
  defineTool({
    name: 'example_stats',
    description:
      'This server’s counters: calls per tool (faults included), side effects in order, cancellations received, pid.',
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    input: z.object({}),
    run: (_args, { world, faults }) => {
      const { cancellations, cancelledRequestIds, pid } = faults.stats();
      return {
        pid,
        calls: { ...world.state.calls },
        effects: world.state.effects,
        cancellations,
        cancelled_request_ids: cancelledRequestIds,
        production_version: world.state.production_version,
        resources: world.state.resources,
      };
    },
  }),
  defineTool({
    name: 'example_set_plan',
    description:
      'Replaces the fault plan (faults, tasks, deployments) of this server; the state is kept. Same format as --plan.',
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    input: z.object({ plan: z.record(z.string(), z.unknown()) }),
    run: ({ plan }, { world, faults }) => {
      const parsed = ExamplePlan.omit({ state: true }).safeParse(plan);
      if (!parsed.success) {
        throw new ToolFailure(`Invalid plan: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
      }
      faults.setFaults(parsed.data.faults);
      world.setScenario(parsed.data);
      return { replaced: true, faults: Object.keys(parsed.data.faults) };
    },
  }),
];
