// `retrace tools SERVER`: the server's tools, their annotations and the policy retrace derives from them.
import { ExitCode } from '../exitCodes.js';
import type { GlobalOptions } from '../main.js';
import { openRuntime } from './shared.js';

export async function runTools(server: string, options: { json?: boolean }, globals: GlobalOptions): Promise<number> {
  const runtime = await openRuntime(globals);
  try {
    const tools = await runtime.listTools(server);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    } else {
      for (const tool of tools) {
        const hints = Object.entries(tool.annotations ?? {})
          .filter(([key, value]) => key.endsWith('Hint') && value === true)
          .map(([key]) => key.replace(/Hint$/, ''));
        const description = (tool.description ?? '').split('\n')[0] ?? '';
        process.stdout.write(`${tool.name}${hints.length ? ` [${hints.join(', ')}]` : ''}  ${description}\n`);
      }
    }
    return ExitCode.ok;
  } finally {
    await runtime.close();
  }
}
