// The example MCP server of seeds 000 and 004 (McpServer, zod inputs, annotations), its faults switched by a plan.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Clock } from '../common/clock.js';
import { deploymentTools } from './deploymentTools.js';
import { ExampleFaults } from './exampleFaults.js';
import { ExamplePlan, type ExamplePlanInput } from './examplePlan.js';
import { structuredResult } from '../common/failureShapes.js';
import { explainedFailure, failWith, type ExampleTool } from './exampleTool.js';
import { ExampleWorld, isToolFailure } from './exampleWorld.js';
import { scheduleTools } from './scheduleTools.js';
import { supportTools } from './supportTools.js';
import { taskTools } from './taskTools.js';

export const exampleTools: readonly ExampleTool[] = [
  ...scheduleTools,
  ...taskTools,
  ...deploymentTools,
  ...supportTools,
];

/** What one server process shares between its sessions (one per stdio connection or HTTP session). */
export interface ExampleHost {
  world: ExampleWorld;
  faults: ExampleFaults;
  /** Whether an `exit` fault may end this process (not when it shares a process with its caller). */
  allowExit: boolean;
}

export interface ExampleHostOptions {
  plan?: ExamplePlan | ExamplePlanInput;
  stateFile?: string | undefined;
  clock?: Clock;
  allowExit?: boolean;
}

export function createExampleHost(options: ExampleHostOptions = {}): ExampleHost {
  const plan = ExamplePlan.parse(options.plan ?? {});
  const world = new ExampleWorld({
    plan,
    stateFile: options.stateFile,
    ...(options.clock && { clock: options.clock }),
  });
  // The faults count calls in the state itself, so a server restarted on the same state file resumes its scripts.
  const faults = new ExampleFaults(plan.faults, world.state.calls);
  world.save();
  return { world, faults, allowExit: options.allowExit ?? false };
}

/** One MCP server over the host's world: each call meets its planned fault first, then the tool; the state is saved after. */
export function createExampleServer(host: ExampleHost): McpServer {
  const { world, faults, allowExit } = host;
  const server = new McpServer({ name: 'retrace-example', version: '0.1.0' }, { capabilities: { tools: {} } });
  for (const tool of exampleTools) {
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: tool.input, annotations: tool.annotations },
      async (args, extra) => {
        const decision = faults.take(extra.sessionId, extra.requestId) ?? faults.decide(tool.name, args);
        // Saved before the fault too: an `exit` must not be replayed by the restarted server.
        world.save();
        if (decision.kind === 'fail') return failWith(decision.spec, extra, allowExit);
        try {
          return structuredResult(await tool.run(args, { world, faults, extra }));
        } catch (error) {
          // A failure with details is answered with them; any other goes to the SDK, which answers with its text.
          if (isToolFailure(error) && error.details) return explainedFailure(error.message, error.details);
          throw error;
        } finally {
          world.save();
        }
      },
    );
  }
  return server;
}
