// `retrace demo`: a real flaky MCP server (a child process over stdio) and resilient calls riding out its faults, live.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../actors/logger.js';
import { createRuntime, type Runtime } from '../../actors/runtime.js';
import type { ToolCallOutcome } from '../../machines/toolCallTypes.js';
import { parseRuntimeConfig } from '../../config/runtimeConfig.js';
import { attemptLine } from '../attemptLines.js';
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';

const flakyServer = flakyServerCommand();

/** The built server next to the built CLI; run from src (through tsx) there is only the `.ts` entry, loaded with tsx too. */
function flakyServerCommand(): { entry: string; args: string[] } {
  const built = fileURLToPath(new URL('../../testing/flakyServerMain.js', import.meta.url));
  if (existsSync(built)) return { entry: built, args: [built] };
  const source = fileURLToPath(new URL('../../testing/flakyServerMain.ts', import.meta.url));
  // Resolved from here, not from the server's cwd, so the demo works from any directory.
  return { entry: source, args: ['--import', import.meta.resolve('tsx'), source] };
}

/** What the server will do to its next calls, in order: the faults the calls must ride out. */
const plan = {
  echo: ['unavailable', 'rate_limit', 'timeout', 'ok', 'ok', 'unavailable', 'unavailable', 'unavailable'],
};

const config = parseRuntimeConfig({
  servers: { flaky: { command: process.execPath, args: [...flakyServer.args, '--plan', JSON.stringify(plan)] } },
  defaults: { max_delay: '2s', jitter: 'equal', timeout: '1500ms', deadline: '30s' },
  tools: {
    // A tool's own base_delay applies to every kind of failure (the seed's 2 s for unavailable servers too).
    echo: { max_retries: 5, base_delay: '300ms', cache: { ttl: '5m' }, breaker: { minimum_calls: 6 } },
    get_schedule: { fallbacks: ['echo'] },
  },
});

function print(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function scene(
  runtime: Runtime,
  title: string,
  tool: string,
  args: Record<string, unknown>,
  policy?: object,
): Promise<ToolCallOutcome> {
  print(`\n▶ ${title}`);
  const started = Date.now();
  const outcome = await runtime.callTool('flaky', tool, args, policy ? { policy } : {});
  const text = outcome.result?.content.map((item) => (item.type === 'text' ? item.text : `[${item.type}]`)).join(' ');
  print(
    `  = ${outcome.status} after ${outcome.attempts.length} attempt(s) in ${Date.now() - started} ms${text ? `: ${text}` : ''}`,
  );
  for (const warning of outcome.warnings) print(`  ! ${warning}`);
  return outcome;
}

export async function runDemo(options: { json?: boolean }, globals: GlobalOptions): Promise<number> {
  const runtime = createRuntime({
    config,
    logger: createLogger({ level: (globals.logLevel ?? 'silent') as 'silent' }),
  });
  runtime.on('event', (event) => {
    const line = attemptLine(event);
    if (line) print(`  ${line}`);
  });
  try {
    print(`retrace demo: a flaky MCP server over stdio (${flakyServer.entry})`);
    const outcomes = [
      await scene(
        runtime,
        'echo rides out: unavailable → rate limit (server asks 1 s) → a hang cut at 1.5 s → success',
        'echo',
        { message: 'hello from retrace' },
      ),
      await scene(
        runtime,
        'get_schedule is not implemented by this server: routed straight to its fallback',
        'get_schedule',
        {
          message: 'answered by the fallback',
        },
      ),
      await scene(
        runtime,
        'echo again, now failing for good: its breaker opens and the cached result answers',
        'echo',
        { message: 'hello from retrace' },
        { max_retries: 1 },
      ),
    ];
    print('\nper-tool metrics (the seed ERROR_METRICS):');
    for (const metrics of runtime.metrics()) {
      print(
        `  ${metrics.tool}: calls ${metrics.totalCalls}, errors ${metrics.totalErrors} (transient ${metrics.transientErrors}, permanent ${metrics.permanentErrors}), retries ${metrics.retries}, fallbacks ${metrics.fallbacks}, cache hits ${metrics.cacheHits}, error rate ${(metrics.errorRate * 100).toFixed(0)}%`,
      );
    }
    if (options.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
    const ridden = outcomes.every((outcome) => ['succeeded', 'fallback', 'cached'].includes(outcome.status));
    print(ridden ? '\nevery call answered despite the faults.' : '\nsome call did not answer: see above.');
    return ridden ? ExitCode.ok : ExitCode.failed;
  } finally {
    await runtime.close();
  }
}
