// Compiling the steps that act outside the workflow: mcp_call (its server, tool and policy layer) and shell_command.
import type { PathSegment } from '../config/yamlErrors.js';
import type { ParsedToolPolicyConfig } from '../policy/toolPolicy.js';
import { splitCommand } from './commandWords.js';
import { compileValue, report } from './compileValues.js';
import type { Visibility } from './compileValues.js';
import type { CompiledErrorHandling, CompiledStepOf, ValueTemplate } from './compiledWorkflow.js';
import type { StepCompiler, StepOf, StepParts } from './compileSteps.js';

export function compileMcpCall(parts: StepParts, step: StepOf<'mcp_call'>): CompiledStepOf<'mcp_call'> {
  return {
    ...parts.base,
    type: 'mcp_call',
    ...mcpTarget(parts.compiler, step, parts.path),
    arguments: parts.value(['arguments'], step.arguments ?? {}),
    policy: callPolicy(step, parts.base.onError),
  };
}

export function compileShellCommand(parts: StepParts, step: StepOf<'shell_command'>): CompiledStepOf<'shell_command'> {
  return {
    ...parts.base,
    type: 'shell_command',
    ...shellCommand(parts.compiler, step, parts.path, parts.visibility),
    idempotent: step.idempotent ?? false,
  };
}

function mcpTarget(
  compiler: StepCompiler,
  step: StepOf<'mcp_call'>,
  path: PathSegment[],
): { server?: string; tool: string } {
  const { context } = compiler;
  const written = step.tool ?? step.method;
  if (step.tool !== undefined && step.method !== undefined && step.tool !== step.method) {
    report(context, [...path, 'method'], "give the tool once: tool and method (seed 004's name for it) disagree");
  }
  if (written === undefined) {
    report(context, path, 'an mcp_call needs a tool (or method)');
    return { tool: '' };
  }
  // `server/tool` names both.
  const slash = written.indexOf('/');
  const server = step.server ?? (slash > 0 ? written.slice(0, slash) : undefined);
  const tool = slash > 0 && step.server === undefined ? written.slice(slash + 1) : written;
  const key = step.tool !== undefined ? 'tool' : 'method';
  if (server !== undefined) {
    if (compiler.serversComplete && !compiler.servers.includes(server)) {
      const known =
        compiler.servers.length > 0 ? `declared: ${compiler.servers.join(', ')}` : 'no servers are declared';
      report(context, [...path, step.server !== undefined ? 'server' : key], `unknown server "${server}" (${known})`);
    }
    return { server, tool };
  }
  if (compiler.servers.length === 1 && compiler.servers[0] !== undefined) return { server: compiler.servers[0], tool };
  if (compiler.servers.length > 1) {
    report(
      context,
      path,
      `name the server of ${JSON.stringify(tool)}: several are declared (${compiler.servers.join(', ')})`,
    );
  } else {
    // The config a run uses may declare the one server this needs (seed 004's example names none).
    const where = compiler.serversComplete
      ? 'neither the workflow nor the runtime config declares a server'
      : 'no server is declared here';
    report(
      context,
      [...path, key],
      `${where} for ${JSON.stringify(tool)}: the runtime config of the run must have exactly one`,
      'warning',
    );
  }
  return { tool };
}

/** The call's policy layer: `policy:`, then `on_error: retry` (retry_count/retry_delay as the call's retries), then `timeout` per attempt. */
function callPolicy(step: StepOf<'mcp_call'>, onError: CompiledErrorHandling): ParsedToolPolicyConfig {
  const policy: ParsedToolPolicyConfig = { ...step.policy };
  if (onError.strategy === 'retry') {
    policy.max_retries = onError.retry.maxRetries;
    policy.base_delay = onError.retry.baseDelayMs;
  }
  if (step.timeout !== undefined) policy.timeout = step.timeout;
  return policy;
}

function shellCommand(
  compiler: StepCompiler,
  step: StepOf<'shell_command'>,
  path: PathSegment[],
  visibility: Visibility,
): { argv: ValueTemplate[]; env: Array<[string, ValueTemplate]>; cwd?: ValueTemplate } {
  const { context } = compiler;
  let argv: ValueTemplate[];
  if (typeof step.command === 'string') {
    const split = splitCommand(step.command);
    for (const problem of split.problems)
      report(context, [...path, 'command'], `${problem.message} (at character ${problem.offset + 1})`);
    argv = split.words.map((word) => compileValue(context, [...path, 'command'], word, visibility));
  } else {
    argv = step.command.map((word, index) => compileValue(context, [...path, 'command', index], word, visibility));
  }
  const env = Object.entries(step.env ?? {}).map(([name, written]): [string, ValueTemplate] => [
    name,
    compileValue(context, [...path, 'env', name], written, visibility),
  ]);
  return {
    argv,
    env,
    ...(step.cwd === undefined ? {} : { cwd: compileValue(context, [...path, 'cwd'], step.cwd, visibility) }),
  };
}
