#!/usr/bin/env node
// The `retrace` command: a thin layer over the library API. Errors print one line; the stack only with --debug.
import { Command, Option } from 'commander';
import { isRetraceError, ErrorCode } from '../common/errors.js';
import { ExitCode } from './exitCodes.js';
import { runCall } from './commands/call.js';
import { runTools } from './commands/tools.js';
import { runDemo } from './commands/demo.js';
import { runExport, runImport, runMetrics, runReplay, runRuns, runTail, type TailOptions } from './commands/log.js';
import { runExplain } from './commands/explain.js';
import { runValidate } from './commands/validate.js';
import { runWorkflowFile, type RunCommandOptions } from './commands/run.js';
import { runResolve, runResume, type ResolveCommandOptions, type ResumeCommandOptions } from './commands/resume.js';
import { runCancel, type CancelOptions } from './commands/cancel.js';
import { runStatus, type StatusOptions } from './commands/status.js';
import { runMcp, type McpCommandOptions } from './commands/mcp.js';
import { runReport, type ReportOptions } from './commands/report.js';
import { runMachines, type MachinesOptions } from './commands/machines.js';
import { DEFAULT_SERVE_PORT, runServe, type ServeOptions } from './commands/serve.js';
import { runChaosProxy, type ChaosProxyOptions } from './commands/chaosProxy.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  debug?: boolean;
  /** The file log's directory (default .retrace/ in the current directory). */
  dataDir?: string;
  /** A NATS URL: the bus publishes there; alone (no --store, no `store:`), JetStream becomes the event store. */
  nats?: string;
  /** `file` or `jetstream`: overrides the config's `store:`. */
  store?: string;
}

function exitCodeForError(error: unknown): number {
  if (!isRetraceError(error)) return ExitCode.failed;
  switch (error.code) {
    case ErrorCode.config:
    case ErrorCode.configParse:
      return ExitCode.config;
    case ErrorCode.connection:
      return ExitCode.unavailable;
    case ErrorCode.workflow:
    case ErrorCode.workflowParse:
      return ExitCode.invalid;
    case ErrorCode.logLocked:
      return ExitCode.logLocked;
    case ErrorCode.logCorrupt:
      return ExitCode.logCorrupt;
    case ErrorCode.store:
      return ExitCode.storeFailed;
    case ErrorCode.unknownRun:
      return ExitCode.unknownRun;
    default:
      return ExitCode.usage;
  }
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('retrace')
    .description('Resilient, explainable MCP tool calls')
    .option('-c, --config <file>', 'config file (default: retrace.config.yaml in the current directory)')
    .addOption(
      new Option('--log-level <level>', 'pino log level on stderr').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .option('--debug', 'print stack traces of errors')
    .option('--data-dir <dir>', 'where the file log lives (default: .retrace in the current directory)')
    .option('--nats <url>', 'NATS at this URL: publish every event there; alone, also record to JetStream there')
    .addOption(
      new Option('--store <kind>', 'where events are recorded (default: file, or jetstream with --nats)').choices([
        'file',
        'jetstream',
      ]),
    )
    .exitOverride()
    .showHelpAfterError();

  let exitCode: number = ExitCode.ok;
  const globals = () => program.opts<GlobalOptions>();

  program
    .command('tools')
    .description("list a server's tools with their annotations")
    .argument('<server>', 'server name from the config')
    .option('--json', 'print JSON')
    .action(async (server: string, options: { json?: boolean }) => {
      exitCode = await runTools(server, options, globals());
    });

  program
    .command('call')
    .description('call one tool resiliently; the outcome JSON on stdout, one line per attempt on stderr')
    .argument('<server>', 'server name from the config')
    .argument('<tool>', 'tool name')
    .option('-a, --arg <key=value>', 'an argument (repeatable); typed by the tool input schema', collect, [])
    .option('--args-json <json>', 'all arguments as one JSON object')
    .option('--policy-json <json>', 'policy overrides for this call, e.g. {"max_retries":0}')
    .option('-q, --quiet', 'no attempt lines on stderr')
    .action(
      async (
        server: string,
        tool: string,
        options: { arg: string[]; argsJson?: string; policyJson?: string; quiet?: boolean },
      ) => {
        exitCode = await runCall(server, tool, options, globals());
      },
    );

  program
    .command('runs')
    .description('list the runs in the log')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      exitCode = await runRuns(options, globals());
    });

  program
    .command('replay')
    .description("print a run's timeline from its events alone")
    .argument('<run>', 'run id (see retrace runs)')
    .option('--until <seq|time>', 'stop at this event seq, clock time (ISO) or offset from the start (+1.5s)')
    .option('--format <format>', 'text or json', 'text')
    .option('--inspect [port|sky]', 'also feed its transitions to the Stately inspector (a relay on 127.0.0.1:8080)')
    .action(async (run: string, options: { until?: string; format?: string; inspect?: string | true }) => {
      exitCode = await runReplay(run, options, globals());
    });

  program
    .command('metrics')
    .description('per-tool and per-workflow metrics projected from the log')
    .option('--run <run>', 'one run only')
    .option('--json', 'print JSON')
    .action(async (options: { run?: string; json?: boolean }) => {
      exitCode = await runMetrics(options, globals());
    });

  program
    .command('export')
    .description("write a run's events as JSON Lines on stdout")
    .argument('<run>', 'run id')
    .action(async (run: string) => {
      exitCode = await runExport(run, globals());
    });

  program
    .command('import')
    .description('read a run exported as JSON Lines back into the log')
    .argument('<file>', 'a .jsonl file')
    .action(async (file: string) => {
      exitCode = await runImport(file, globals());
    });

  program
    .command('tail')
    .description('print events as they are recorded: stored ones from a position or a window, then live ones')
    .option('--run <run>', 'one run only')
    .option('--from <position>', 'first the stored events after this log position (printed in the first column)')
    .option('--since <duration>', 'first the stored events of this last while, e.g. 10m')
    .option('--json', 'print each event as a JSON line')
    .action(async (options: TailOptions) => {
      exitCode = await runTail(options, globals());
    });

  program
    .command('validate')
    .description('check a workflow file: every problem with its line and column (exit 65 when invalid)')
    .argument('<file>', 'workflow YAML file')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      exitCode = await runValidate(file, options, globals());
    });

  program
    .command('explain')
    .description("a workflow's execution plan: steps, tools and policies, fallbacks, computed fields, worst-case times")
    .argument('<file>', 'workflow YAML file')
    .option('-i, --input <key=value>', 'an input (repeatable); typed by its declaration', collect, [])
    .option('--json', 'print JSON')
    .action(async (file: string, options: { input: string[]; json?: boolean }) => {
      exitCode = await runExplain(file, options, globals());
    });

  program
    .command('machines')
    .description(
      "the tool-call, circuit-breaker, workflow and step machines (or --workflow FILE's step chart) for Stately's editor, Mermaid or Graphviz",
    )
    .addOption(
      new Option('--format <format>', 'json (the config Stately imports), mermaid or dot')
        .choices(['json', 'mermaid', 'dot'])
        .default('json'),
    )
    .option('--workflow <file>', "a workflow file's steps as a statechart, instead of the built-in machines")
    .addOption(
      new Option('--machine <name>', 'one built-in machine only').choices([
        'toolCall',
        'circuitBreaker',
        'workflow',
        'step',
      ]),
    )
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (options: MachinesOptions) => {
      exitCode = await runMachines(options, globals());
    });

  program
    .command('run')
    .description(
      'run a workflow as a recorded run: progress on stderr, the outcome on stdout (exit 0 succeeded, 1 failed, 2 escalated, 130 cancelled)',
    )
    .argument('<file>', 'workflow YAML file')
    .option('-i, --input <key=value>', 'an input (repeatable); typed by its declaration', collect, [])
    .option('--run-id <id>', 'the run id (default: a new ULID)')
    .option('--json', 'every event as a JSON line on stdout, then { runId, status, state, result }')
    .option('-q, --quiet', 'no progress lines on stderr')
    .option('--inspect [port|sky]', 'watch it in the Stately inspector (a relay on 127.0.0.1:8080; 0: any port)')
    .action(async (file: string, options: RunCommandOptions) => {
      exitCode = await runWorkflowFile(file, options, globals());
    });

  program
    .command('resume')
    .description(
      'continue a run whose process stopped, from its log: completed steps are not run again (exit codes as run)',
    )
    .argument('[run]', 'the run id')
    .option('--all', 'resume every unfinished run of the log that is not waiting on an escalation')
    .option('-i, --input <key=value>', 'an input the log redacted (repeatable)', collect, [])
    .option('--force', 'resume even though the workflow file changed since the run started')
    .option('--json', 'every event as a JSON line on stdout, then { runId, status, state, result } per run')
    .option('-q, --quiet', 'no progress lines on stderr')
    .action(async (run: string | undefined, options: ResumeCommandOptions) => {
      exitCode = await runResume(run, options, globals());
    });

  program
    .command('resolve')
    .description('answer the escalation a run waits on, and continue the run here (exit codes as run)')
    .argument('<run>', 'the run id')
    .addOption(
      new Option('--action <action>', 'what happens to the waiting step')
        .choices(['retry', 'skip', 'abort', 'value'])
        .makeOptionMandatory(),
    )
    .option('--value <json>', 'with --action value: the step result, as JSON')
    .option('--by <name>', 'who resolved it (recorded)')
    .option('--note <text>', 'why (recorded)')
    .option(
      '-i, --input <key=value>',
      'an input the log redacted, needed to continue the run (repeatable)',
      collect,
      [],
    )
    .option('--json', 'print the outcome as one JSON line')
    .action(async (run: string, options: ResolveCommandOptions) => {
      exitCode = await runResolve(run, options, globals());
    });

  program
    .command('status')
    .description(
      'workflow runs: without RUN a table of those running, interrupted or escalated (--all: every one); with RUN its details (exit 66 when unknown)',
    )
    .argument('[run]', 'run id')
    .option('--json', "print JSON (for an ended run exactly run --json's last line)")
    .option('--all', 'ended runs too')
    .action(async (run: string | undefined, options: StatusOptions) => {
      exitCode = await runStatus(run, options, globals());
    });

  program
    .command('cancel')
    .description(
      'cancel a run from another terminal: its process cancels in-flight calls and runs cleanup; exits as run would (130 cancelled), 1 if it had ended',
    )
    .argument('<run>', 'run id')
    .option('--reason <text>', 'why (recorded in workflow.cancelled)')
    .option('--wait <seconds>', 'how long to wait for the run to end (default: until it ends; 0: do not wait)')
    .option('--json', 'print the final as one JSON line')
    .action(async (run: string, options: CancelOptions) => {
      exitCode = await runCancel(run, options, globals());
    });

  program
    .command('mcp')
    .description(
      'retrace as an MCP server (stdio; --http for Streamable HTTP): tools to start, watch, resolve, replay and debug workflow runs',
    )
    .option('--http <[host:]port>', 'serve Streamable HTTP at http://HOST:PORT/mcp (host 127.0.0.1 by default)')
    .option('--token <token>', 'require Authorization: Bearer <token> (needed for an address beyond loopback)')
    .action(async (options: McpCommandOptions) => {
      exitCode = await runMcp(options, globals());
    });

  program
    .command('report')
    .description(
      "write a workflow run's page as one self-contained HTML file that opens offline (exit 66 when unknown)",
    )
    .argument('<run>', 'run id')
    .option('-o, --output <file>', 'the file to write (default: run-RUN.html)')
    .action(async (run: string, options: ReportOptions) => {
      exitCode = await runReport(run, options, globals());
    });

  program
    .command('serve')
    .description(
      "watch the data dir's log read-only (no lock: runs go on beside it): HTTP /metrics (Prometheus), /healthz, /readyz and the run viewer (/runs), until SIGINT/SIGTERM",
    )
    .option('--port <port>', 'port to listen on (0: any free one)', String(DEFAULT_SERVE_PORT))
    .option('--host <host>', 'address to bind; beyond loopback a token is required', '127.0.0.1')
    .option('--token <token>', 'required as "Authorization: Bearer TOKEN" (default: $RETRACE_TOKEN)')
    .option(
      '--inspect [port|sky]',
      'feed the runs it sees, live, to the Stately inspector (a relay on 127.0.0.1:8080; 0: any port)',
    )
    .action(async (options: ServeOptions) => {
      exitCode = await runServe(options, globals());
    });

  program
    .command('chaos-proxy')
    .description(
      'a fault-injecting MCP proxy by a seeded plan: stdio in front of -- COMMAND ARGS…, or Streamable HTTP (--target URL --listen [HOST:]PORT); the report on stderr when it stops and as the resource chaos://report',
    )
    .argument('[command...]', 'the stdio server to proxy, after --')
    .requiredOption('--plan <file>', 'the plan: seed, faults, outages (YAML or JSON)')
    .option('--target <url>', 'the Streamable HTTP server to proxy')
    .option('--listen <[host:]port>', 'serve Streamable HTTP at http://HOST:PORT/mcp (host 127.0.0.1 by default)')
    .option('--token <token>', 'require Authorization: Bearer <token> over HTTP (needed to listen beyond loopback)')
    .option('--state <file>', "keep the dice's place in FILE, so a proxy restarted after a crash goes on from it")
    .action(async (command: string[], options: ChaosProxyOptions) => {
      exitCode = await runChaosProxy(command, options);
    });

  program
    .command('demo')
    .description("seed 000's production deployment against the example MCP server with faults on")
    .option('--json', 'print every event of the run as a JSON line')
    .action(async (options: { json?: boolean }) => {
      exitCode = await runDemo(options, globals());
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const commanderCode = (error as { code?: string }).code;
    if (commanderCode === 'commander.helpDisplayed' || commanderCode === 'commander.version') return ExitCode.ok;
    if (commanderCode?.startsWith('commander.')) return ExitCode.usage;
    const debug = argv.includes('--debug');
    if (isRetraceError(error)) process.stderr.write(`retrace: ${error.describe()}\n`);
    else process.stderr.write(`retrace: ${error instanceof Error ? error.message : String(error)}\n`);
    if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return exitCodeForError(error);
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

process.exitCode = await main(process.argv.slice(2));
