// `retrace machines`: the machines as JSON, Mermaid or dot on stdout or in a file; bad options are usage errors.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { cliTest as it, stderrLines } from '../support/cli.js';
import { repoRoot } from '../support/servers.js';

describe.concurrent('retrace machines', () => {
  it('prints the four machines as JSON configs by name', async ({ workspace }) => {
    const result = await workspace.run(['machines']);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, { id: string; states: Record<string, unknown> }>;
    expect(Object.keys(json)).toEqual(['toolCall', 'circuitBreaker', 'workflow', 'step']);
    expect(Object.keys(json.circuitBreaker?.states ?? {})).toEqual(['closed', 'open', 'halfOpen']);
  });

  it('writes one machine to a file with -o', async ({ workspace }) => {
    const file = join(workspace.dir, 'toolCall.json');
    const result = await workspace.run(['machines', '--machine', 'toolCall', '--format', 'json', '-o', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(stderrLines(result)).toEqual([`wrote toolCall as json to ${file}`]);
    const config = JSON.parse(await readFile(file, 'utf8')) as { id: string; initial: string };
    expect(config).toMatchObject({ id: 'toolCall', initial: 'idle' });
  });

  it("draws a workflow file's steps in Mermaid and in dot", async ({ workspace }) => {
    const file = join(repoRoot, 'examples', 'seed-000', 'deployment.yaml');
    const mermaid = await workspace.run(['machines', '--workflow', file, '--format', 'mermaid']);
    expect(mermaid.code, mermaid.stderr).toBe(0);
    expect(mermaid.stdout).toMatch(/^stateDiagram-v2\n/);
    expect(mermaid.stdout).toContain('promote --> seed_000_deployment_run_failed: error#58; mcp_call');
    const dot = await workspace.run(['machines', '--workflow', file, '--format', 'dot']);
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toContain('"promote" -> "seed_000_deployment_run_failed" [label="error: mcp_call"]');
  });

  it('refuses an unknown format with a usage error (64)', async ({ workspace }) => {
    const result = await workspace.run(['machines', '--format', 'svg']);
    expect(result.code).toBe(64);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("argument 'svg' is invalid. Allowed choices are json, mermaid, dot.");
  });

  it('refuses --workflow with --machine (64) and names a missing workflow file (65)', async ({ workspace }) => {
    const both = await workspace.run(['machines', '--workflow', 'flow.yaml', '--machine', 'step']);
    expect(both.code).toBe(64);
    expect(stderrLines(both)).toEqual([
      'retrace: --workflow and --machine exclude each other: export one or the other',
    ]);
    const missing = await workspace.run(['machines', '--workflow', 'nope.yaml']);
    expect(missing.code).toBe(65);
    expect(stderrLines(missing)).toEqual(['retrace: nope.yaml: workflow file not found']);
  });
});
