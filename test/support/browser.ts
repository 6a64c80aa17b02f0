// Headless Chromium for the viewer's tests (Debian's chromium driven by playwright-core), and where their screenshots go.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from './servers.js';

/** `apt-get install -y chromium` puts it here (.ci/run installs it when it is missing). */
export const chromiumPath = '/usr/bin/chromium';

/** Screenshots and the pages they show, kept after the run (gitignored). */
export const testOutputDir = join(repoRoot, 'test-output', 'viewer');

export async function launchChromium(): Promise<Browser> {
  await mkdir(testOutputDir, { recursive: true });
  // As root Chromium refuses to start with its sandbox on; the rest keep it off a network it must not reach (its
  // background connections are refused here, many at a time) so a page test only sees the page's own requests.
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface OpenedPage {
  page: Page;
  /** Every URL the page asked for (the document itself included). */
  requests: string[];
  /** Uncaught errors and console errors of the page. */
  errors: string[];
}

/** Opens a file as `file://` in a fresh page, recording what it loads and any error its script throws. */
export async function openFile(browser: Browser, file: string): Promise<OpenedPage> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(pathToFileURL(file).href);
  return { page, requests, errors };
}

/** A full-page screenshot in the test output directory. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(testOutputDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Markup that would load something from the network: a src/href/action/url()/@import to http(s) or `//`. */
export const remoteResource =
  /(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?\/\/)|url\(\s*["']?\s*(?:https?:)?\/\/|@import/i;
