// The definition hash a resume compares: every part of the definition counts, where it was loaded from does not.
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workflowHash } from '../../src/actors/workflowExecution.js';
import { loadWorkflow, parseWorkflowText } from '../../src/workflow/loadWorkflow.js';

const text = (target: string) => `name: tally
state: { raw: { count: 0, other: 0 } }
steps:
  - { id: add, type: state_update, path: ${target}, operation: increment }
`;

async function hashOf(yaml: string): Promise<string> {
  const checked = await parseWorkflowText(yaml);
  if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
  return workflowHash(checked.workflow);
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('workflowHash', () => {
  it("changes when only a state_update step's target path changes", async () => {
    expect(await hashOf(text('raw.count'))).not.toBe(await hashOf(text('raw.other')));
    expect(await hashOf(text('raw.count'))).toBe(await hashOf(text('raw.count')));
  });

  it('is the same for the same file loaded from two directories', async () => {
    const root = await mkdtemp(join(tmpdir(), 'retrace-hash-'));
    dirs.push(root);
    const hashes: string[] = [];
    for (const name of ['one', 'two']) {
      await mkdir(join(root, name));
      await writeFile(join(root, name, `${name}.yaml`), text('raw.count'));
      const { workflow } = await loadWorkflow(join(root, name, `${name}.yaml`));
      hashes.push(workflowHash(workflow));
    }
    expect(hashes[0]).toBe(hashes[1]);
  });
});
