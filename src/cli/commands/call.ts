// `retrace call SERVER TOOL`: one resilient call; outcome JSON on stdout, one line per attempt on stderr.
import type { ToolInfo } from '../../actors/mcpTypes.js';
import type { Runtime } from '../../actors/runtime.js';
import { ErrorCode, RetraceError } from '../../common/errors.js';
import { policyFor } from '../../config/policyFor.js';
import { ToolPolicyConfig } from '../../policy/toolPolicy.js';
import { attemptLine, firstLine } from '../attemptLines.js';
import { exitCodeFor } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { buildToolArgs } from '../toolArgs.js';
import { openRuntime } from './shared.js';

export interface CallCommandOptions {
  arg: string[];
  argsJson?: string;
  policyJson?: string;
  quiet?: boolean;
}

function parsePolicy(text: string | undefined): ToolPolicyConfig | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RetraceError(ErrorCode.badArguments, `--policy-json: invalid JSON (${(error as Error).message})`);
  }
  const parsed = ToolPolicyConfig.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RetraceError(
      ErrorCode.badArguments,
      `--policy-json ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return value as ToolPolicyConfig;
}

/**
 * The server's tools, or undefined when they cannot be listed. An unreachable server is not refused here:
 * the call itself retries, falls back and classifies, as the library would; only the unknown-tool check
 * (and typing `--arg` values by the input schema) is skipped.
 */
async function listToolsOrNote(runtime: Runtime, server: string, quiet: boolean): Promise<ToolInfo[] | undefined> {
  try {
    return await runtime.listTools(server);
  } catch (error) {
    if (!quiet) {
      const reason = error instanceof Error ? firstLine(error.message) : String(error);
      process.stderr.write(`… could not list the tools of ${server} (${reason}); calling without checking\n`);
    }
    return undefined;
  }
}

export async function runCall(
  server: string,
  tool: string,
  options: CallCommandOptions,
  globals: GlobalOptions,
): Promise<number> {
  const policy = parsePolicy(options.policyJson);
  // Arguments are checked before the log is opened: a typo should not wait for, or hold, the log's lock.
  buildToolArgs(options.arg, options.argsJson);
  const runtime = await openRuntime(globals, { record: true });
  try {
    if (!(server in runtime.config.servers)) {
      const known = Object.keys(runtime.config.servers);
      throw new RetraceError(
        ErrorCode.unknownServer,
        `unknown server "${server}" (configured: ${known.length ? known.join(', ') : 'none — add it under servers: in retrace.config.yaml'})`,
      );
    }
    const tools = await listToolsOrNote(runtime, server, options.quiet === true);
    const info = tools?.find((candidate) => candidate.name === tool);
    // A tool the server lacks is still callable when the config routes it somewhere: that is what fallbacks are for.
    const routed = policyFor(runtime.config, server, tool, undefined, policy && ToolPolicyConfig.parse(policy));
    if (tools && !info && routed.fallbacks.length === 0 && routed.syncAlternative === undefined) {
      throw new RetraceError(
        ErrorCode.unknownTool,
        `server "${server}" has no tool "${tool}" (it has: ${tools.map((candidate) => candidate.name).join(', ') || 'no tools'})`,
      );
    }
    const args = buildToolArgs(options.arg, options.argsJson, info?.inputSchema);
    if (!options.quiet) {
      runtime.on('event', (event) => {
        const line = attemptLine(event);
        if (line) process.stderr.write(`${line}\n`);
      });
    }
    const outcome = await runtime.callTool(server, tool, args, policy === undefined ? {} : { policy });
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
    const code = exitCodeFor(outcome.status);
    if (code !== 0) {
      const reason = outcome.escalation
        ? `${outcome.escalation.level} escalation (${outcome.escalation.trigger}): ${outcome.escalation.message}`
        : (outcome.error?.message ?? outcome.warnings.at(-1) ?? outcome.status);
      // One line: a message may carry a crashed server's stderr tail, which stays in the JSON on stdout.
      process.stderr.write(`retrace: ${outcome.status}: ${firstLine(reason)}\n`);
    }
    return code;
  } finally {
    await runtime.close();
  }
}
