// The chaos plan file: defaults, the example plan, and every problem reported with its file, line and column.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadChaosPlan, parseChaosPlan } from '../../src/chaos/chaosPlan.js';
import { repoRoot } from '../support/servers.js';

function problemOf(text: string, mode?: 'stdio' | 'http'): string {
  try {
    parseChaosPlan(text, 'plan.yaml', mode);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the plan was accepted');
}

describe('chaos plan', () => {
  it('reads the example plan, with durations in milliseconds and defaults filled', () => {
    const plan = loadChaosPlan(join(repoRoot, 'examples', 'chaos', 'plan.yaml'), 'stdio');
    expect(plan.seed).toBe(42);
    expect(plan.faults[0]).toEqual({ tool: 'write_record', rate: 0.1, kind: 'lock' });
    expect(plan.faults.map((fault) => fault.kind)).toEqual(['lock', 'unavailable', 'rate_limit', 'latency', 'timeout']);
    expect(plan.outages).toEqual([{ from: 5_000, to: 12_000 }]);
    expect(parseChaosPlan('{}', 'empty.json')).toEqual({ seed: 0, faults: [], outages: [] });
    expect(parseChaosPlan('faults: [{rate: 1, kind: auth}]', 'p.yaml').faults).toEqual([
      { tool: '*', rate: 1, kind: 'auth' },
    ]);
  });

  it('names the line and column of an unknown kind, a rate above 1 and a misspelt key', () => {
    const text = ['seed: 1', 'faults:', '  - tool: echo', '    rate: 1.5', '    kind: explode', '    mss: 3'].join(
      '\n',
    );
    const message = problemOf(text);
    expect(message).toContain('plan.yaml:4:11 faults[0].rate:');
    expect(message).toMatch(/plan\.yaml:5:11 faults\[0\]\.kind: .*timeout/);
    expect(message).toMatch(/plan\.yaml:6:5 faults\[0\]\.mss: unknown key "mss".*did you mean "ms"/);
  });

  it('refuses an outage that ends before it starts, and a duration that is not one', () => {
    expect(problemOf('outages:\n  - { from: 12s, to: 5s }')).toMatch(
      /^plan\.yaml:2:5 outages\[0\].*`to` must be later/,
    );
    expect(problemOf('outages:\n  - { from: soon, to: 5s }')).toMatch(
      /^plan\.yaml:2:13 outages\[0\]\.from: expected a duration/,
    );
  });

  it('refuses crash over HTTP and drop over stdio, saying which to use', () => {
    const plan = 'faults:\n  - { rate: 1, kind: crash }\n  - { rate: 1, kind: drop }';
    expect(problemOf(plan, 'http')).toBe(
      'plan.yaml:2:22 faults[0].kind: crash needs the proxy to serve stdio (over http, use drop)',
    );
    expect(problemOf(plan, 'stdio')).toBe(
      'plan.yaml:3:22 faults[1].kind: drop needs the proxy to serve http (over stdio, use crash)',
    );
  });

  it('reports broken YAML and a missing file with their position', () => {
    expect(problemOf('faults: [\n  {rate: 1')).toMatch(/^plan\.yaml:\d+:\d+: /);
    expect(() => loadChaosPlan(join(repoRoot, 'no-such-plan.yaml'))).toThrow(/cannot read the plan file/);
  });
});
