// The example MCP server for tests: as a stdio child run from its .ts entry, and an SDK client connected to it.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { StdioServerConfig } from '../../src/actors/serverConfig.js';
import type { ExamplePlanInput } from '../../src/examples/examplePlan.js';
import { repoRoot } from './servers.js';

export const exampleMain = join(repoRoot, 'src', 'examples', 'exampleServerMain.ts');

export interface ExampleServerArgs {
  plan?: ExamplePlanInput;
  planFile?: string;
  stateFile?: string;
}

function argsOf(options: ExampleServerArgs): string[] {
  return [
    ...(options.plan ? ['--plan-json', JSON.stringify(options.plan)] : []),
    ...(options.planFile ? ['--plan', options.planFile] : []),
    ...(options.stateFile ? ['--state-file', options.stateFile] : []),
  ];
}

/** The example server as a stdio child: `node --import tsx src/examples/exampleServerMain.ts …`. */
export function exampleStdioConfig(options: ExampleServerArgs = {}): StdioServerConfig {
  return { command: process.execPath, args: ['--import', 'tsx', exampleMain, ...argsOf(options)], cwd: repoRoot };
}

export interface ExampleClient {
  client: Client;
  /** Calls a tool; answers its structured content, or throws with the error text of an `isError` result. */
  call<T = Record<string, unknown>>(tool: string, args?: Record<string, unknown>): Promise<T>;
  /** Calls a tool and answers the raw result (failed or not). */
  raw(tool: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  stats(): Promise<{ pid: number; calls: Record<string, number>; effects: { tool: string; id: string }[] }>;
  close(): Promise<void>;
}

export function textOf(result: CallToolResult): string {
  return result.content.flatMap((part) => (part.type === 'text' ? [part.text] : [])).join('\n');
}

/** Starts the example server over stdio and connects a real MCP client to it. */
export async function connectExample(options: ExampleServerArgs = {}): Promise<ExampleClient> {
  const { command, args } = exampleStdioConfig(options);
  const client = new Client({ name: 'example-test', version: '0.0.0' });
  await client.connect(new StdioClientTransport({ command, args, cwd: repoRoot, stderr: 'ignore' }));
  const raw = async (tool: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
  const call = async <T>(tool: string, args: Record<string, unknown> = {}): Promise<T> => {
    const result = await raw(tool, args);
    if (result.isError) throw new Error(textOf(result));
    return result.structuredContent as T;
  };
  return {
    client,
    raw,
    call,
    stats: () => call('example_stats'),
    close: () => client.close(),
  };
}
