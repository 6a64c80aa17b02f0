// `retrace resolve --input`: a run whose log redacted an input (a secret) goes on after the resolution only with that
// input given again, as `retrace resume` takes it (found by the crash campaign: a deployment escalated by a crash could
// not be resolved, its approval token being redacted).
import { describe, expect } from 'vitest';
import { cliTest as it, stdoutJson } from '../support/cli.js';
import { escalateWithRedactedInput } from '../support/redactedInputRun.js';

describe('retrace resolve --input', { timeout: 120_000 }, () => {
  it('continues a run whose redacted input is given again; without it, says which input is missing', async ({
    workspace,
  }) => {
    const run = await escalateWithRedactedInput(workspace);
    expect(run.code, run.stderr).toBe(2);

    const refused = await workspace.run(['resolve', 'r1', '--action', 'retry'], { timeoutMs: 60_000 });
    expect(refused.code).toBe(64);
    expect(refused.stderr).toContain('the log redacted inputs.approval_token');

    const resolved = await workspace.run(
      ['resolve', 'r1', '--action', 'retry', '--input', 'approval_token=s3cret', '--json'],
      { timeoutMs: 60_000 },
    );
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(stdoutJson(resolved)).toMatchObject({ status: 'succeeded', result: { fetched: 'ok', token: 's3cret' } });
  });
});
