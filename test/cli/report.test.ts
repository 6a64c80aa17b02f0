// `retrace report RUN -o FILE` on a run the CLI recorded in the file log (`retrace demo`: retries, a fallback, a cached
// answer, an emergency escalation that was resolved), opened from disk in headless Chromium.
import { existsSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { EventEnvelope } from '../../src/events/envelope.js';
import { launchChromium, openFile, remoteResource, screenshot, testOutputDir } from '../support/browser.js';
import { cliTest as it } from '../support/cli.js';
import { repoRoot } from '../support/servers.js';
import { forEachStep } from '../../src/workflow/compiledWorkflow.js';
import { loadWorkflow } from '../../src/workflow/loadWorkflow.js';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('retrace report', () => {
  it("writes the demo run's page as one file that opens offline and shows its steps, errors and escalation", async ({
    workspace,
  }) => {
    const demo = await workspace.run(['demo', '--json']);
    expect(demo.code, demo.stderr).toBe(0);
    const events = demo.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as EventEnvelope);
    const runId = events[0]?.runId ?? '';

    const report = await workspace.run(['report', runId, '-o', 'postmortem.html']);

    expect(report.code, report.stderr).toBe(0);
    const file = join(workspace.dir, 'postmortem.html');
    expect(report.stdout).toBe(`${file}\n`);
    expect(report.stderr).toContain(`wrote the page of run ${runId} (${events.length} events)`);
    const html = await readFile(file, 'utf8');
    expect(html).not.toMatch(remoteResource);
    // A report is static: no live script asks a server for anything.
    expect(html).not.toContain('fetch(');
    await copyFile(file, join(testOutputDir, 'demo-report.html'));
    const { page, requests, errors } = await openFile(browser, file);
    expect(errors).toEqual([]);
    expect(requests.every((url) => url.startsWith('file://'))).toBe(true);
    await expect(page.locator('#workflow-name').textContent()).resolves.toBe('seed-000-deployment');
    await expect(page.locator('#run-status').textContent()).resolves.toBe('succeeded');
    const steps = await page
      .locator('#step-chart .node')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-actor')));
    expect(steps).toEqual(expect.arrayContaining(['preflight', 'promote', 'monitor', 'rollback']));
    // The run recorded its file: every step of it is drawn as a statechart, those never reached too.
    const fileSteps: string[] = [];
    const { workflow } = await loadWorkflow(join(repoRoot, 'examples', 'seed-000', 'deployment.yaml'));
    forEachStep(workflow.steps, (step) => fileSteps.push(step.id));
    const drawn = await page
      .locator('#workflow-chart [data-step]')
      .evaluateAll((nodes) => nodes.map((node) => node.getAttribute('data-step')));
    expect(new Set(drawn)).toEqual(new Set(fileSteps));
    await expect(page.locator('#workflow-chart [data-step="rollback"]').getAttribute('class')).resolves.toContain(
      'reached',
    );
    const errorRows = await page.locator('#errors-table tbody tr').allTextContents();
    expect(
      errorRows.some((row) => row.includes('preflight') && row.includes('transient') && row.includes('fallback')),
    ).toBe(true);
    expect(
      errorRows.some((row) => row.includes('promote') && row.includes('unavailable') && row.includes('retry')),
    ).toBe(true);
    const escalation = await page.locator('#escalations-table tbody tr').allTextContents();
    expect(escalation).toHaveLength(1);
    expect(escalation[0]).toContain('emergency');
    expect(escalation[0]).toContain('rollback_deployment_tool');
    expect(escalation[0]).toContain('Roll back by hand');
    // The cached answer is drawn on the timeline and the call's machine went through `cached`.
    await expect(page.locator('#timeline-rows .bar.cache').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.machine .node.current[data-state="cached"]').count()).resolves.toBe(1);
    await screenshot(page, 'demo-report-end');

    // Back to the escalation: the run waits there, on the rollback step.
    const escalatedAt = events.findIndex((event) => event.type === 'workflow.escalated') + 1;
    await page.locator('#scrubber').fill(String(escalatedAt));
    await expect(page.locator('#cursor-status').textContent()).resolves.toBe('escalated');
    await expect(page.locator('#cursor-steps').textContent()).resolves.toBe('waiting on rollback');
    await expect(page.locator('#step-chart .node.waiting').getAttribute('data-actor')).resolves.toBe('rollback');
    const state = JSON.parse((await page.locator('#state-json').textContent()) ?? '{}') as {
      raw: { outcome?: string };
    };
    expect(state.raw.outcome).toBe('failed');
    await screenshot(page, 'demo-report-escalated');
  });

  it('names the file after the run by default, and refuses an unknown run with exit 66', async ({ workspace }) => {
    const demo = await workspace.run(['demo', '--json']);
    const runId = (JSON.parse(demo.stdout.split('\n')[0] ?? '{}') as EventEnvelope).runId;

    const report = await workspace.run(['report', runId]);
    expect(report.code, report.stderr).toBe(0);
    expect(existsSync(join(workspace.dir, `run-${runId}.html`))).toBe(true);

    const unknown = await workspace.run(['report', 'no-such-run']);
    expect(unknown.code).toBe(66);
    expect(unknown.stderr).toBe('retrace: no run "no-such-run" in the log (see retrace status --all)\n');
    expect(existsSync(join(workspace.dir, 'run-no-such-run.html'))).toBe(false);
  });
});
