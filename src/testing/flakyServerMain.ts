#!/usr/bin/env node
// Runs the flaky MCP server: stdio by default, `--http PORT` for Streamable HTTP on 127.0.0.1; `--plan JSON` or FLAKY_PLAN scripts failures.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { FlakyControl } from './flakyControl.js';
import { startFlakyHttpServer } from './flakyHttpHost.js';
import { FlakyPlan } from './flakyPlan.js';
import { createFlakyServer } from './flakyServer.js';

const usage = 'usage: flakyServerMain [--http PORT] [--plan JSON]   (env FLAKY_PLAN=JSON also sets the plan)';

function parseArgs(argv: string[]): { httpPort?: number; plan: FlakyPlan } {
  let httpPort: number | undefined;
  let planText = process.env['FLAKY_PLAN'];
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (flag === '--http' && value !== undefined) {
      httpPort = Number(value);
      if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65_535)
        throw new Error(`--http: bad port '${value}'`);
      index++;
    } else if (flag === '--plan' && value !== undefined) {
      planText = value;
      index++;
    } else {
      throw new Error(`unknown or incomplete argument '${flag}'`);
    }
  }
  if (planText === undefined || planText === '') return httpPort === undefined ? { plan: {} } : { httpPort, plan: {} };
  let json: unknown;
  try {
    json = JSON.parse(planText);
  } catch (error) {
    throw new Error(`plan: not JSON: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const parsed = FlakyPlan.safeParse(json);
  if (!parsed.success) throw new Error(`plan: ${z.prettifyError(parsed.error).replaceAll('\n', '; ')}`);
  return httpPort === undefined ? { plan: parsed.data } : { httpPort, plan: parsed.data };
}

async function main(): Promise<void> {
  const { httpPort, plan } = parseArgs(process.argv.slice(2));
  const control = new FlakyControl(plan);
  if (httpPort !== undefined) {
    const host = await startFlakyHttpServer({ port: httpPort, host: '127.0.0.1', control, allowExit: true });
    process.stdout.write(`listening ${host.url}\n`);
    const stop = (): void => void host.close().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  const transport = new StdioServerTransport();
  control.observe(transport);
  await createFlakyServer({ control, allowExit: true }).connect(transport);
  // The client closing stdin means it is done with us, even while a call hangs.
  process.stdin.once('end', () => process.exit(0));
  process.stderr.write(`flaky: ready on stdio (pid ${process.pid})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`flaky: ${error instanceof Error ? error.message : String(error)}\n${usage}\n`);
  process.exit(2);
});
