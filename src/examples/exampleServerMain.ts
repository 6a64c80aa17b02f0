#!/usr/bin/env node
// Runs the example MCP server: stdio by default, `--http PORT` for Streamable HTTP on 127.0.0.1; `--plan FILE` switches faults on.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { isRetraceError } from '../common/errors.js';
import { ExamplePlan } from './examplePlan.js';
import { startExampleHttpServer } from './exampleHttpHost.js';
import { createExampleHost, createExampleServer } from './exampleServer.js';
import { loadExamplePlan, parseExamplePlan } from './loadExamplePlan.js';

const usage = [
  'usage: exampleServerMain [--http PORT] [--plan FILE | --plan-json JSON] [--state-file FILE]',
  '  env EXAMPLE_PLAN=FILE and EXAMPLE_STATE_FILE=FILE do the same as the flags',
].join('\n');

interface Args {
  httpPort?: number;
  plan: ExamplePlan;
  stateFile?: string;
}

function parseArgs(argv: string[], env: NodeJS.ProcessEnv): Args {
  let httpPort: number | undefined;
  let planFile = env['EXAMPLE_PLAN'] || undefined;
  let planJson: string | undefined;
  let stateFile = env['EXAMPLE_STATE_FILE'] || undefined;
  for (let index = 0; index < argv.length; index++) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (value === undefined || !['--http', '--plan', '--plan-json', '--state-file'].includes(flag ?? '')) {
      throw new Error(`unknown or incomplete argument '${flag}'`);
    }
    index++;
    if (flag === '--http') {
      httpPort = Number(value);
      if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65_535)
        throw new Error(`--http: bad port '${value}'`);
    } else if (flag === '--plan') planFile = value;
    else if (flag === '--plan-json') planJson = value;
    else stateFile = value;
  }
  const plan =
    planJson !== undefined
      ? parseExamplePlan(planJson, '--plan-json')
      : planFile !== undefined
        ? loadExamplePlan(planFile)
        : ExamplePlan.parse({});
  return {
    plan,
    ...(httpPort !== undefined && { httpPort }),
    ...(stateFile !== undefined && { stateFile }),
  };
}

async function main(): Promise<void> {
  const { httpPort, plan, stateFile } = parseArgs(process.argv.slice(2), process.env);
  const host = createExampleHost({ plan, stateFile, allowExit: true });
  if (httpPort !== undefined) {
    const http = await startExampleHttpServer(host, { port: httpPort });
    process.stdout.write(`listening ${http.url}\n`);
    const stop = (): void => void http.close().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  const transport = new StdioServerTransport();
  host.faults.observe(transport);
  await createExampleServer(host).connect(transport);
  // The client closing stdin means it is done with us, even while a call hangs.
  process.stdin.once('end', () => process.exit(0));
  process.stderr.write(`example-server: ready on stdio (pid ${process.pid})\n`);
}

main().catch((error: unknown) => {
  const message = isRetraceError(error) ? error.describe() : error instanceof Error ? error.message : String(error);
  process.stderr.write(`example-server: ${message}\n${usage}\n`);
  process.exit(2);
});
