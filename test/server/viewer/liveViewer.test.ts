// The run viewer served live (an embedded observability server with the viewer's routes on the runtime's store), in
// headless Chromium: runs wait on the simulated clock in a `wait` step, the pages are open, time moves on, and the
// pages change without reloading — the runs list gains the new run, a run page folds the new events in, its scrubber
// follows the end only when it was there. The workflow file's statechart draws the steps the run has not reached.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../../src/actors/runtime.js';
import type { Runtime } from '../../../src/actors/runtimeTypes.js';
import type { WorkflowHandle } from '../../../src/actors/workflowRun.js';
import { createObservabilityServer, type ObservabilityServer } from '../../../src/server/http/observabilityServer.js';
import { addViewerRoutes } from '../../../src/server/viewer/index.js';
import { createTestClock, type TestClock } from '../../../src/testing/testClock.js';
import { loadWorkflow, parseWorkflowText } from '../../../src/workflow/loadWorkflow.js';
import { launchChromium, screenshot } from '../../support/browser.js';
import { createMemoryStore } from '../../support/memoryStore.js';

const HOLD_MS = 10 * 60_000;
/** How long a page may take to show what the server has (it polls every 100 ms): a bounded wait, checked often. */
const live = { timeout: 10_000, interval: 50 };

const holdWorkflow = (name: string) => `name: ${name}
state: { raw: { count: 0 } }
steps:
  - { id: one, type: state_update, path: raw.count, operation: increment, value: 1 }
  - { id: hold, type: wait, duration: 10m }
  - { id: two, type: state_update, path: raw.count, operation: increment, value: 1 }
  - id: maybe
    type: conditional
    condition: '{{ state.raw.count > 5 }}'
    then:
      - { id: never, type: state_update, path: raw.count, operation: increment, value: 100 }
  - { id: done, type: return, value: '{{ state.raw.count }}' }
`;

let browser: Browser;
let dir: string;
let clock: TestClock;
let store: ReturnType<typeof createMemoryStore>;
let runtime: Runtime;
let server: ObservabilityServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retrace-live-viewer-'));
  clock = createTestClock(1_735_689_600_000);
  store = createMemoryStore();
  runtime = createRuntime({ clock, store });
  server = await createObservabilityServer({ runtime, store, processMetrics: false });
  addViewerRoutes(server, store, { config: runtime.config, runIntervalMs: 100, runsIntervalMs: 100 });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await runtime?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Polls `check` until it holds (bounded): the runtime works on real I/O, the clock stands still meanwhile. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000; i += 1) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Spawns the workflow file's run and waits until it holds in its `wait` step (its timer on the clock). */
async function spawnHolding(file: string, timers: number): Promise<WorkflowHandle> {
  const { workflow } = await loadWorkflow(file, { config: runtime.config });
  const handle = runtime.spawn(workflow);
  await until(
    () =>
      clock.pending() >= timers &&
      store.events.some((event) => event.runId === handle.runId && event.actorId === 'hold'),
    `run ${handle.runId} to hold`,
  );
  return handle;
}

async function open(path: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.url}${path}`);
  // A reload would lose this: the page must change in place.
  await page.evaluate(() => ((globalThis as unknown as { samePage: boolean }).samePage = true));
  return { page, errors };
}

const samePage = (page: Page) => page.evaluate(() => (globalThis as unknown as { samePage?: boolean }).samePage);
const classOf = (page: Page, selector: string) => page.locator(selector).getAttribute('class');
const eventsOf = (runId: string) => store.events.filter((event) => event.runId === runId).length;

describe('the live run viewer', () => {
  let first: WorkflowHandle;
  let second: WorkflowHandle;

  it('lists a new run without reloading', async () => {
    await writeFile(join(dir, 'first.yaml'), holdWorkflow('first'));
    await writeFile(join(dir, 'second.yaml'), holdWorkflow('second'));
    first = await spawnHolding(join(dir, 'first.yaml'), 1);
    const { page, errors } = await open('/runs');
    await expect(page.locator('#runs tbody tr').count()).resolves.toBe(1);

    second = await spawnHolding(join(dir, 'second.yaml'), 2);
    await expect.poll(() => page.locator('#runs tbody tr').count(), live).toBe(2);
    const row = page.locator(`#runs tr[data-run="${second.runId}"]`);
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('running');
    await expect(row.locator('a').getAttribute('href')).resolves.toBe(`/run?id=${second.runId}`);
    await expect(page.locator('#live-status').getAttribute('class')).resolves.toBe('live ok');
    await screenshot(page, 'live-runs-two-running');
    expect(await samePage(page)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('folds new events into an open run page: the statechart, state and timeline move on, the scrubber follows the end', async () => {
    const { page: followed, errors } = await open(`/run?id=${first.runId}`);
    const { page: scrubbed } = await open(`/run?id=${second.runId}`);
    const { page: runs } = await open('/runs');

    // The whole workflow is drawn: reached steps solid, the waiting one current, the rest unreached.
    await expect(classOf(followed, '#workflow-chart [data-step="one"]')).resolves.toContain('st-succeeded');
    await expect(classOf(followed, '#workflow-chart [data-step="hold"]')).resolves.toContain('current');
    for (const step of ['two', 'maybe', 'never', 'done']) {
      await expect(classOf(followed, `#workflow-chart [data-step="${step}"]`)).resolves.toContain('unreached');
    }
    await expect(followed.locator('#workflow-chart-note').count()).resolves.toBe(0);
    await expect(followed.locator('#scrubber').inputValue()).resolves.toBe(String(eventsOf(first.runId)));
    await screenshot(followed, 'live-run-holding');
    // The other page's reader went back to the first event: it stays there.
    await scrubbed.locator('#scrubber').fill('1');

    const before = eventsOf(second.runId);
    clock.advance(HOLD_MS);
    await Promise.all([first.done, second.done]);

    await expect.poll(() => followed.locator('#cursor-status').textContent(), live).toBe('succeeded');
    const count = eventsOf(first.runId);
    await expect(followed.locator('#scrubber').inputValue()).resolves.toBe(String(count));
    await expect(followed.locator('#scrubber').getAttribute('max')).resolves.toBe(String(count));
    await expect(followed.locator('#run-status').textContent()).resolves.toBe('succeeded');
    await expect(
      followed
        .locator('#state-json')
        .textContent()
        .then((text) => JSON.parse(text ?? 'null')),
    ).resolves.toEqual({
      raw: { count: 2 },
    });
    for (const step of ['one', 'hold', 'two', 'maybe', 'done']) {
      await expect(classOf(followed, `#workflow-chart [data-step="${step}"]`)).resolves.toContain('st-succeeded');
    }
    await expect(classOf(followed, '#workflow-chart [data-step="never"]')).resolves.toContain('unreached');
    await expect(classOf(followed, '#workflow-chart [data-final="succeeded"]')).resolves.toContain('current');
    await expect(followed.locator('#timeline-rows .row.step[data-actor="two"]').count()).resolves.toBe(1);
    await screenshot(followed, 'live-run-succeeded');

    await expect
      .poll(() => scrubbed.locator('#scrubber').getAttribute('max'), live)
      .toBe(String(eventsOf(second.runId)));
    expect(eventsOf(second.runId)).toBeGreaterThan(before);
    await expect(scrubbed.locator('#scrubber').inputValue()).resolves.toBe('1');
    await expect(scrubbed.locator('#cursor-status').textContent()).resolves.toBe('running');
    await expect(scrubbed.locator('#run-status').textContent()).resolves.toBe('succeeded');

    await expect
      .poll(() => runs.locator('#runs tbody tr td:nth-child(3)').allTextContents(), live)
      .toEqual(['succeeded', 'succeeded']);
    for (const page of [followed, scrubbed, runs]) expect(await samePage(page)).toBe(true);
    expect(errors).toEqual([]);
    await Promise.all([followed.close(), scrubbed.close(), runs.close()]);
  });

  it('says why it draws only the reached steps when the file is gone or the workflow was never a file, and when the file changed', async () => {
    await rm(join(dir, 'second.yaml'));
    const { page: gone } = await open(`/run?id=${second.runId}`);
    await expect(gone.locator('#workflow-chart-note').textContent()).resolves.toContain(
      `The run's workflow file ${join(dir, 'second.yaml')} is gone.`,
    );
    await expect(gone.locator('#workflow-chart').count()).resolves.toBe(0);
    await expect(gone.locator('#step-chart .node[data-actor="two"]').count()).resolves.toBe(1);

    // A file edited since the run: drawn as it is now, and the page says which reached steps it lost.
    await writeFile(join(dir, 'first.yaml'), holdWorkflow('first').replace('id: two,', 'id: second_count,'));
    const { page: edited } = await open(`/run?id=${first.runId}`);
    await expect(edited.locator('#workflow-chart-note').textContent()).resolves.toContain(
      'Steps the run reached that the file no longer has: two.',
    );
    await expect(classOf(edited, '#workflow-chart [data-step="second_count"]')).resolves.toContain('unreached');
    await edited.close();

    const checked = await parseWorkflowText('name: inline\nsteps:\n  - { id: only, type: return, value: 1 }\n');
    if (!checked.workflow) throw new Error(checked.problems.map((problem) => problem.message).join('\n'));
    const inline = runtime.spawn(checked.workflow);
    await inline.done;
    const { page: text } = await open(`/run?id=${inline.runId}`);
    await expect(text.locator('#workflow-chart-note').textContent()).resolves.toContain('compiled from text');
    await Promise.all([gone.close(), text.close()]);

    // The JSON the pages poll: bad requests say what is wrong.
    const bad = await fetch(`${server.url}/api/run?id=${first.runId}&after=last`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'after: expected the last seq the page has (a whole number), got "last"',
    });
    expect((await fetch(`${server.url}/api/run?id=nope`)).status).toBe(404);
    const none = (await (await fetch(`${server.url}/api/run?id=${first.runId}&after=999999`)).json()) as {
      events: unknown[];
      sections: Record<string, string>;
    };
    expect(none).toMatchObject({ events: [], sections: {} });
  });
});
