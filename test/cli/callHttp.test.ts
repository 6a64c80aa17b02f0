// `retrace call` over Streamable HTTP: the flaky server as its own process, answering with real HTTP statuses.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { ToolCallOutcome } from '../../src/machines/toolCallTypes.js';
import { cliTest as it, stderrLines, stdoutJson } from '../support/cli.js';
import { spawnFlakyHttp } from '../support/servers.js';
import type { FlakyHttpProcess } from '../support/servers.js';

let server: FlakyHttpProcess;

beforeAll(async () => {
  server = await spawnFlakyHttp();
});

afterAll(async () => {
  await server.kill();
});

describe.concurrent('retrace call over HTTP', () => {
  it('waits as a 429 Retry-After says, then succeeds', async ({ workspace }) => {
    await workspace.writeConfig({ servers: { remote: { url: server.url } } });
    const rateLimited = {
      key: 'limited',
      failures: 1,
      error: 'http_status',
      status: 429,
      headers: { 'retry-after': '1' },
    };
    const result = await workspace.run(['call', 'remote', 'flaky', '--args-json', JSON.stringify(rateLimited)]);

    expect(result.code, result.stderr).toBe(0);
    const outcome = stdoutJson<ToolCallOutcome>(result);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.attempts).toHaveLength(2);
    expect(outcome.attempts[0]).toMatchObject({ error: { class: 'transient', kind: 'rate_limit' }, delayMs: 1_000 });
    expect(stderrLines(result)).toEqual([
      '→ attempt 1 remote/flaky',
      expect.stringMatching(/^✗ attempt 1 flaky after \S+: transient\/rate_limit: .* → retry$/),
      '… waiting 1s (Retry-After) before attempt 2',
      '→ attempt 2 remote/flaky',
      '✓ succeeded by remote/flaky on attempt 2',
    ]);
  });
});
