// The run page and the runs page in headless Chromium, from two workflow runs recorded through the runtime against the
// example MCP server on the simulated clock: what they show, the scrubber's replay, and that they load nothing remote.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foldWorkflowRun } from '../../../src/actors/runObservation.js';
import type { EventEnvelope } from '../../../src/events/envelope.js';
import { chartOf, chartStates } from '../../../src/machines/export/index.js';
import { toolCallMachine } from '../../../src/machines/toolCall.js';
import { renderRunPage, renderRunsPage, runsPageRow } from '../../../src/server/viewer/index.js';
import { launchChromium, openFile, remoteResource, screenshot, testOutputDir } from '../../support/browser.js';
import { runDemoWorkflows, type DemoRun } from '../../support/workflowDemo.js';

let browser: Browser;
let plain: DemoRun;
let escalated: DemoRun;

beforeAll(async () => {
  [browser, { plain, escalated }] = await Promise.all([launchChromium(), runDemoWorkflows()]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

async function writePage(name: string, html: string): Promise<string> {
  const file = join(testOutputDir, `${name}.html`);
  await writeFile(file, html);
  return file;
}

/** The position of the scrubber just after the first event that `matches`. */
function positionAfter(events: readonly EventEnvelope[], matches: (event: EventEnvelope) => boolean): number {
  const index = events.findIndex(matches);
  if (index < 0) throw new Error('no such event in the run');
  return index + 1;
}

describe('the run page', () => {
  it("shows a recorded run's steps, errors with their classification and its escalation's recommended action, offline", async () => {
    const html = renderRunPage(escalated.events);
    expect(html).not.toMatch(remoteResource);
    const { page, requests, errors } = await openFile(browser, await writePage('escalated-run', html));

    expect(errors).toEqual([]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    await expect(page.locator('#workflow-name').textContent()).resolves.toBe('timeline-demo');
    await expect(page.locator('#run-status').textContent()).resolves.toBe('escalated');
    const chartSteps = await page
      .locator('#step-chart .node')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-actor')));
    expect(chartSteps).toEqual(
      expect.arrayContaining([
        'validate',
        'by_id',
        'per_region',
        'per_region[1].record',
        'notify',
        'notify/say',
        'tidy',
      ]),
    );
    // At the end the escalated step waits: the chart outlines it.
    await expect(page.locator('#step-chart .node[data-actor="tidy"]').getAttribute('class')).resolves.toContain(
      'waiting',
    );
    const errorRows = await page.locator('#errors-table tbody tr').allTextContents();
    expect(
      errorRows.some((row) => row.includes('cleanup_resources') && row.includes('permanent') && row.includes('auth')),
    ).toBe(true);
    expect(
      errorRows.some((row) => row.includes('notify/say') && row.includes('no channel') && row.includes('retry')),
    ).toBe(true);
    const escalation = escalated.events.find((event) => event.type === 'toolcall.escalated')?.data['escalation'] as {
      recommendedAction: string;
    };
    const escalationRow = await page.locator('#escalations-table tbody tr').textContent();
    expect(escalationRow).toContain('critical');
    expect(escalationRow).toContain('auth_failed');
    expect(escalationRow).toContain(escalation.recommendedAction.split('\n')[0]);
    await screenshot(page, 'escalated-run');
  });

  it('replays the run with the scrubber: the state, the current step and the timeline follow it', async () => {
    const { events } = plain;
    const { page, errors } = await openFile(browser, await writePage('plain-run', renderRunPage(events)));
    const stateAt = async (position: number) => {
      await page.locator('#scrubber').fill(String(position));
      return JSON.parse((await page.locator('#state-json').textContent()) ?? 'null') as unknown;
    };
    const firstAppend = positionAfter(events, (event) => event.type === 'workflow.state.updated');

    await expect(stateAt(firstAppend - 1)).resolves.toEqual({ raw: { deployed: [] } });
    await expect(page.locator('#cursor-steps').textContent()).resolves.toBe('per_region, per_region[0].record');
    await expect(stateAt(firstAppend)).resolves.toEqual({ raw: { deployed: ['eu'] } });
    await expect(page.locator('#cursor-change').textContent()).resolves.toBe('append raw.deployed = ["eu"]');
    await expect(
      page.locator('#step-chart .node[data-actor="per_region[0].record"]').getAttribute('class'),
    ).resolves.toBe('node st-running current');
    await screenshot(page, 'plain-run-first-append');
    await expect(stateAt(events.length)).resolves.toEqual({ raw: { deployed: ['eu', 'us'] } });
    await expect(page.locator('#cursor-status').textContent()).resolves.toBe('succeeded');

    // The timeline is cut at the cursor's clock time: the first call's backoff has no width yet when it is
    // scheduled, the attempt after it is not drawn; at the end both are.
    const scheduled = positionAfter(events, (event) => event.type === 'toolcall.backoff.scheduled');
    const backoff = page.locator('#timeline-rows .bar.backoff').first();
    const retried = page.locator('#timeline-rows .row.call').first().locator('.bar.attempt-succeeded');
    await page.locator('#scrubber').fill(String(scheduled));
    const widthOf = (style: string | null) => Number(/width:\s*([\d.]+)%/.exec(style ?? '')?.[1]);
    await expect(backoff.getAttribute('style').then(widthOf)).resolves.toBe(0);
    await expect(retried.getAttribute('class')).resolves.toContain('hidden');
    await page.locator('#scrubber').fill(String(events.length));
    await expect(backoff.getAttribute('style').then(widthOf)).resolves.toBeGreaterThan(0);
    await expect(retried.getAttribute('class')).resolves.not.toContain('hidden');
    // The buttons move it one event at a time.
    await page.locator('#scrub-back').click();
    await expect(page.locator('#scrubber').inputValue()).resolves.toBe(String(events.length - 1));
    await expect(page.locator('#cursor-status').textContent()).resolves.toBe('running');
    expect(errors).toEqual([]);
  });

  it('draws each tool call as the tool-call machine, its state at the scrubber outlined and its way written', async () => {
    const { events } = plain;
    const { page, errors } = await openFile(browser, await writePage('plain-run-calls', renderRunPage(events)));
    const callId = events.find(
      (event) => event.type === 'toolcall.requested' && event.parentId === 'validate',
    )?.actorId;
    const machine = page.locator(`.machine[data-call="${callId ?? ''}"]`);
    const current = () =>
      machine.locator('.current').evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state')));
    const way = () => page.locator(`[data-call-path="${callId ?? ''}"]`).textContent();
    // Every state of the machine is drawn, the eventless ones (preparing, judging, exhausted) and every final one.
    const drawn = await machine
      .locator('[data-state]')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-state')));
    expect(drawn).toEqual(
      chartStates(chartOf(toolCallMachine))
        .slice(1)
        .map((state) => state.key),
    );

    await page
      .locator('#scrubber')
      .fill(
        String(
          positionAfter(events, (event) => event.type === 'toolcall.backoff.scheduled' && event.actorId === callId),
        ),
      );
    await expect(current()).resolves.toEqual(['backoff']);
    await expect(way()).resolves.toBe('idle → calling → judging → backoff');
    await expect(machine.locator('[data-state="judging"]').getAttribute('class')).resolves.toContain('st-succeeded');
    await expect(machine.locator('[data-state="succeeded"]').getAttribute('class')).resolves.toContain('st-pending');
    await screenshot(page, 'plain-run-call-backoff');

    await page.locator('#scrubber').fill(String(events.length));
    await expect(current()).resolves.toEqual(['succeeded']);
    await expect(way()).resolves.toBe('idle → calling → judging → backoff → preparing → calling → succeeded');
    await page.locator('#scrubber').fill('0');
    await expect(current()).resolves.toEqual([]);
    await expect(way()).resolves.toBe('not requested yet');
    expect(errors).toEqual([]);
  });

  it('folds the events in the page to what the workflowRun projection says, at every position', async () => {
    for (const run of [plain, escalated]) {
      const { page } = await openFile(browser, await writePage(`fold-${run.runId}`, renderRunPage(run.events)));
      const folded = await page.evaluate((events) => {
        const fold = (
          globalThis as unknown as { retraceFold: (all: unknown[], upto: number) => Record<string, unknown> }
        ).retraceFold;
        return events.map((_, index) => {
          const view = fold(events, index + 1);
          return JSON.stringify([
            view['status'],
            view['state'],
            view['computed'],
            view['currentSteps'],
            view['steps'],
            view['stepsEnded'],
            view['result'],
            view['error'] ?? null,
            view['waitingStep'] ?? null,
          ]);
        });
      }, run.events);
      const expected = run.events.map((_, index) => {
        const view = foldWorkflowRun(run.events.slice(0, index + 1));
        return JSON.stringify([
          view.status,
          view.state,
          view.computed,
          view.currentSteps,
          view.steps,
          view.stepsEnded,
          view.result,
          view.error ?? null,
          view.waitingStep ?? null,
        ]);
      });
      expect(folded).toEqual(expected);
    }
  });

  it('keeps data that reads like markup as text: a </script> in the state cannot end the embedded events', async () => {
    const hostile = '</script><script>window.pwned = true</script><!--';
    const events = plain.events.map((event) =>
      event.type === 'workflow.started' && event.actorId === event.runId
        ? { ...event, data: { ...event.data, name: hostile, state: { raw: { deployed: [] }, note: hostile } } }
        : event,
    );
    const { page, errors } = await openFile(browser, await writePage('hostile-run', renderRunPage(events)));

    expect(errors).toEqual([]);
    await expect(page.evaluate(() => (globalThis as unknown as { pwned?: boolean }).pwned)).resolves.toBeUndefined();
    await expect(page.locator('#workflow-name').textContent()).resolves.toBe(hostile);
    await page.locator('#scrubber').fill('1');
    await expect(page.locator('#state-json').textContent()).resolves.toContain(JSON.stringify(hostile));
  });
});

describe('the runs page', () => {
  it('lists each workflow run with its status, errors and escalations, linked to its page', async () => {
    const rows = [runsPageRow(plain.events), runsPageRow(escalated.events)].flatMap((row) => (row ? [row] : []));
    const html = renderRunsPage(rows);
    expect(html).not.toMatch(remoteResource);
    const { page, errors } = await openFile(browser, await writePage('runs', html));

    expect(errors).toEqual([]);
    const shown = await page.locator('#runs tbody tr').all();
    const cells = await Promise.all(
      shown.map(async (row) => (await row.locator('td').allTextContents()).map((text) => text.trim())),
    );
    // Newest first: the escalated run started after the plain one.
    expect(cells).toEqual([
      [escalated.runId, 'timeline-demo', 'escalated', expect.any(String), '500ms', '9', '6', '1'],
      [plain.runId, 'timeline-demo', 'succeeded', expect.any(String), '1.5s', '10', expect.any(String), '0'],
    ]);
    await expect(page.locator(`#runs a`).first().getAttribute('href')).resolves.toBe(`run-${escalated.runId}.html`);
    await screenshot(page, 'runs');
  });
});
