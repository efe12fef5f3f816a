// Owns the headless-browser check of the playground (issue 21): Debian's chromium, driven by
// the pinned playwright-core (which downloads no browser), opens carematch's `/graphql` in a
// fresh profile, checks that GraphiQL renders from carematch's own files only (any request to
// another origin, console error, page error or CSP violation fails), types a query into the
// editor, runs it and waits for the answer in the result pane.
//
//   node playground.mjs http://127.0.0.1:PORT/graphql   (CHROMIUM=/path overrides /usr/bin/chromium)
//
// crates/cli/tests/conformance.rs runs it against the real binary.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const url = process.argv[2];
if (!/^https?:\/\/.+\/graphql$/.test(url ?? '')) {
  console.error('usage: node playground.mjs <carematch /graphql URL>');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const QUERY = '{ recommendCare(symptoms: [URINE_LEAKAGE]) { recommendations { careType } } }';
const EXPECTED = 'PELVIC_FLOOR_PHYSICAL_THERAPY';
const TIMEOUT_MS = 30_000;

const origin = new URL(url).origin;
const problems = [];
const userDataDir = mkdtempSync(join(tmpdir(), 'carematch-playground-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT_MS);
  page.on('request', (request) => {
    const requested = new URL(request.url());
    if (!['data:', 'blob:', 'about:'].includes(requested.protocol) && requested.origin !== origin) {
      problems.push(`a request to another origin: ${request.url()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
  page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

  const response = await page.goto(url, { waitUntil: 'load' });
  if (response?.status() !== 200) throw new Error(`GET ${url} answered ${response?.status()}`);
  if (!(response.headers()['content-security-policy'] ?? '').includes("script-src 'self'")) {
    throw new Error('the page has no Content-Security-Policy limiting scripts to its origin');
  }
  // GraphiQL rendered: its query editor is there.
  const editor = page.locator('.graphiql-query-editor .CodeMirror').first();
  await editor.waitFor({ state: 'visible' });
  console.log('PASS the playground loads GraphiQL');

  // Type the query as a person would: select what the editor holds, then type over it.
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(QUERY, { delay: 5 });
  await page.keyboard.press('Escape'); // closes the autocompletion list, if open
  const typed = await editor.evaluate((element) => element.CodeMirror.getValue());
  if (typed.replace(/\s+/g, '') !== QUERY.replace(/\s+/g, '')) {
    throw new Error(`the editor holds ${JSON.stringify(typed)} after typing ${JSON.stringify(QUERY)}`);
  }
  const answered = page.waitForResponse(
    (candidate) => candidate.url().startsWith(url) && candidate.request().method() === 'POST' && (candidate.request().postData() ?? '').includes('recommendCare'),
  );
  await page.locator('.graphiql-execute-button').first().click();
  const answer = await answered;
  if (answer.status() !== 200) throw new Error(`the query was answered HTTP ${answer.status()}: ${await answer.text()}`);
  const result = page.locator('.graphiql-response');
  await result.getByText(EXPECTED).first().waitFor({ state: 'visible' });
  console.log(`PASS a query typed into the playground answers (${EXPECTED} shown)`);

  if (problems.length) throw new Error(problems.join('\n'));
  console.log('PASS nothing loaded from another origin, no console or page errors');
} catch (error) {
  console.error(`FAIL ${error?.message ?? error}`);
  for (const problem of problems) console.error(`     ${problem}`);
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
