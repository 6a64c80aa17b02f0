// Resuming a foreach of idempotent shell commands (two at a time) from every cut of its log: a command whose
// `workflow.step.succeeded` is in the cut never runs again; one that was running (its end not in the log) may.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { compileText, createWorld, startSharedExample, type SharedExample } from '../support/resumeHarness.js';

const items = ['a', 'b', 'c', 'd'];

let shared: SharedExample;
let dir: string;
beforeAll(async () => {
  shared = startSharedExample();
  dir = await mkdtemp(join(tmpdir(), 'retrace-foreach-'));
});
afterAll(async () => {
  await shared.close();
  await rm(dir, { recursive: true, force: true });
});

function workflowText(log: string): string {
  return `
name: foreach-commands
state: { count: 0 }
steps:
  - id: each
    type: foreach
    items: ${JSON.stringify(items)}
    concurrency: 2
    steps:
      - id: touch
        type: shell_command
        command: [sh, -c, 'echo "$0" >> ${log}', '{{ item }}']
        idempotent: true
      - { id: tally, type: state_update, path: count, operation: increment }
  - { id: done, type: return, value: '{{ state.count }}' }
`;
}

/** Executions of each iteration's command so far, by step actor id. */
async function executions(log: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const lines = existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '') : [];
  for (const line of lines) {
    const actorId = `each[${items.indexOf(line)}].touch`;
    counts.set(actorId, (counts.get(actorId) ?? 0) + 1);
  }
  return counts;
}

describe('resuming a foreach of idempotent commands', () => {
  it('never runs again a command whose end is in the log, from any cut', async () => {
    const log = join(dir, 'effects.log');
    const original = createWorld(shared);
    const workflow = await compileText(original.runtime, workflowText(log));
    const handle = original.runtime.spawn(workflow);
    const final = await original.drive(handle.done);
    const events = original.store.events.filter((event) => event.runId === handle.runId);
    await original.close();
    expect(final.result).toBe(items.length);

    let rerunInFlight = 0;
    for (let cut = 1; cut < events.length; cut += 1) {
      const prefix: EventEnvelope[] = events.slice(0, cut);
      await rm(log, { force: true });
      const world = createWorld(shared, prefix, (prefix.at(-1)?.ts ?? 0) + 1);
      const resumed = await world.runtime.resume(handle.runId, { workflow });
      const again = await world.drive(resumed.done);
      await world.close();
      const where = `cut after event ${cut} (${prefix.at(-1)?.type} ${prefix.at(-1)?.actorId})`;
      expect(again.result, where).toBe(items.length);
      const ran = await executions(log);
      for (let index = 0; index < items.length; index += 1) {
        const actorId = `each[${index}].touch`;
        const ended = prefix.some((event) => event.actorId === actorId && event.type === 'workflow.step.succeeded');
        const started = prefix.some((event) => event.actorId === actorId && event.type === 'workflow.step.started');
        expect(ran.get(actorId) ?? 0, `${where}: ${actorId}`).toBe(ended ? 0 : 1);
        if (started && !ended) rerunInFlight += 1;
      }
    }
    // Some cuts fell while commands were running: those ran again, as an idempotent step may.
    expect(rerunInFlight).toBeGreaterThan(0);
  }, 120_000);
});
