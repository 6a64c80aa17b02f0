// `retrace demo` run from the sources (tsx), as `npm run demo` runs it from dist/.
import { describe, expect } from 'vitest';
import type { ToolCallOutcome } from '../../src/machines/toolCallTypes.js';
import { cliTest as it, stdoutJson } from '../support/cli.js';

describe('retrace demo', () => {
  it('rides out every fault of the flaky server, starting it from its .ts entry when there is no build', async ({
    workspace,
  }) => {
    const result = await workspace.run(['demo', '--json']);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      /^retrace demo: a flaky MCP server over stdio \(.*src\/testing\/flakyServerMain\.ts\)$/m,
    );
    expect(result.stderr).toContain('… waiting 1s (Retry-After) before attempt 3');
    expect(result.stderr).toContain('✓ succeeded by flaky/echo on attempt 4');
    expect(result.stderr).toContain('✓ fallback by flaky/echo on attempt 2');
    expect(result.stderr).toContain('✓ cached by flaky/echo');
    expect(result.stderr).toContain('every call answered despite the faults.');
    expect(stdoutJson<ToolCallOutcome[]>(result).map((outcome) => outcome.status)).toEqual([
      'succeeded',
      'fallback',
      'cached',
    ]);
  });
});
