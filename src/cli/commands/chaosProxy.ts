// `retrace chaos-proxy --plan PLAN -- COMMAND ARGS…` (stdio) or `--target URL --listen [HOST:]PORT` (Streamable HTTP):
// a fault-injecting MCP proxy in front of a real server; what it injected is printed on stderr when it stops.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { HttpServerConfig } from '../../actors/serverConfig.js';
import { ChaosEngine } from '../../chaos/chaosEngine.js';
import { startChaosHttpProxy } from '../../chaos/chaosHttp.js';
import { loadChaosPlan, type ChaosMode } from '../../chaos/chaosPlan.js';
import type { ChaosReport } from '../../chaos/chaosReport.js';
import { readChaosState, writeChaosState, type ChaosState } from '../../chaos/chaosState.js';
import { serveChaosSession, type ChaosSession } from '../../chaos/chaosSession.js';
import { systemClock } from '../../common/clock.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { parseListenAddress } from '../../server/mcp/index.js';
import { ExitCode } from '../exitCodes.js';

export interface ChaosProxyOptions {
  plan: string;
  target?: string;
  listen?: string;
  /** Over HTTP: required as `Authorization: Bearer TOKEN`; needed to listen beyond loopback. */
  token?: string;
  /** Where the dice stand, saved after every decision and read back at start (see src/chaos/chaosState.ts). */
  state?: string;
}

/** The exit code of a proxy that ended itself for a `crash` fault (as a crashed server would). */
export const CRASH_EXIT_CODE = 3;

const name = 'retrace chaos-proxy';

function printReport(report: ChaosReport, reason: string): void {
  process.stderr.write(`${name}: ${report.describe()}\n`);
  process.stderr.write(`${JSON.stringify({ type: 'chaos.report', reason, ...report.toJSON() })}\n`);
}

function usage(message: string): RetraceError {
  return new RetraceError(ErrorCode.usage, `chaos-proxy: ${message}`);
}

/** Resolves with what stopped the proxy: a signal, or (stdio) the client closing stdin. */
function untilStopped(watchStdin: boolean): { stopped: Promise<string>; dispose(): void } {
  let dispose = (): void => undefined;
  const stopped = new Promise<string>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
    const onEnd = (): void => resolve('the client closed stdin');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (watchStdin) process.stdin.once('end', onEnd);
    dispose = () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdin.off('end', onEnd);
    };
  });
  return { stopped, dispose: () => dispose() };
}

export async function runChaosProxy(command: string[], options: ChaosProxyOptions): Promise<number> {
  const http = options.target !== undefined || options.listen !== undefined;
  if (http && command.length > 0) throw usage('give either -- COMMAND ARGS… (stdio) or --target and --listen (HTTP)');
  if (!http && command.length === 0)
    throw usage('give the server to proxy: -- COMMAND ARGS…, or --target URL --listen PORT');
  if (http && (options.target === undefined || options.listen === undefined)) {
    throw usage('over HTTP both --target URL and --listen [HOST:]PORT are needed');
  }
  const mode: ChaosMode = http ? 'http' : 'stdio';
  const plan = loadChaosPlan(options.plan, mode);
  const dice = diceOptions(options.state, plan.seed);
  if (options.state === undefined && plan.faults.some((fault) => fault.kind === 'crash')) {
    process.stderr.write(
      `${name}: the plan crashes the server; without --state FILE a restarted proxy starts its dice from the seed again, and a crash drawn for a tool's first call comes back after every restart\n`,
    );
  }
  if (!http && options.token !== undefined) throw usage('--token is for --listen (HTTP); stdio has no listener');
  return http
    ? serveHttp(options.target!, options.listen!, options.token, plan, dice)
    : serveStdio(command, plan, dice);
}

interface Dice {
  resumed?: ChaosState;
  onDecided?(state: ChaosState): void;
}

function diceOptions(file: string | undefined, seed: number): Dice {
  if (file === undefined) return {};
  const resumed = readChaosState(file, seed);
  return { ...(resumed === undefined ? {} : { resumed }), onDecided: (state) => writeChaosState(file, state) };
}

async function serveHttp(
  targetText: string,
  listen: string,
  token: string | undefined,
  plan: ReturnType<typeof loadChaosPlan>,
  dice: Dice,
): Promise<number> {
  const target = HttpServerConfig.safeParse({ url: targetText });
  if (!target.success) throw usage(`--target ${targetText}: expected an http:// or https:// URL`);
  const address = parseListenAddress(listen, '--listen');
  const { stopped, dispose } = untilStopped(false);
  const proxy = await startChaosHttpProxy({
    plan,
    target: target.data,
    host: address.host,
    port: address.port,
    ...(token === undefined ? {} : { token }),
    ...dice,
    onProblem: (message) => process.stderr.write(`${name}: ${message}\n`),
  });
  process.stderr.write(`${name}: listening on ${proxy.url}, forwarding to ${target.data.url}\n`);
  const reason = await stopped;
  dispose();
  await proxy.close();
  printReport(proxy.engine.report, reason);
  return ExitCode.ok;
}

async function serveStdio(
  [command, ...args]: string[],
  plan: ReturnType<typeof loadChaosPlan>,
  dice: Dice,
): Promise<number> {
  const engine = new ChaosEngine(plan, systemClock, dice.resumed, dice.onDecided);
  const { stopped, dispose } = untilStopped(true);
  let lost: string | undefined;
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const transport = new StdioServerTransport();
  const opening = serveChaosSession(transport, {
    engine,
    mode: 'stdio',
    // The upstream gets the proxy's environment: the proxy stands in for it.
    upstream: { command: command!, args, env },
    onCrash() {
      printReport(engine.report, 'crash');
      process.stderr.write(`${name}: crashed as planned: upstream killed, exiting with code ${CRASH_EXIT_CODE}\n`);
      process.exit(CRASH_EXIT_CODE);
    },
    onUpstreamLost: (why) => (lost = `the upstream server ${why}`),
  });
  let session: ChaosSession | undefined;
  let reason = 'the client closed the connection';
  try {
    const first = await Promise.race([stopped, opening]);
    if (typeof first !== 'string') {
      session = first;
      reason = (await Promise.race([stopped, session.closed])) ?? reason;
    } else {
      reason = first;
      // Stopped while the upstream was still opening: close it once it is open.
      void opening.then(
        (late) => late.close(),
        () => undefined,
      );
    }
  } catch (error) {
    lost = error instanceof Error ? error.message : String(error);
  } finally {
    dispose();
    await session?.close();
    await transport.close();
  }
  if (lost !== undefined) process.stderr.write(`${name}: ${lost}\n`);
  printReport(engine.report, lost ?? reason);
  return lost === undefined ? ExitCode.ok : ExitCode.unavailable;
}
