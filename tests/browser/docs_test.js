#!/usr/bin/env node
// The interactive docs in a real browser: Debian's Chromium, headless,
// driven by playwright-core (pinned in tools/package.json).
//
// Opens <base>/docs, where <base> is the service's URL, possibly behind a
// reverse proxy that adds a path prefix, and checks that
//   - /docs lands on <base>/docs/ and the page loads with no script error and
//     no failed request;
//   - every operation of the spec the server serves (<base>/openapi.json) is
//     listed with its method, path and operationId, and nothing else is;
//   - with --try-it-out: "Try it out" on createUser with a fresh username
//     shows 201 and that user's JSON, then getUser with the id it returned
//     shows 200 and the same user, both called at <base> (the page's own
//     origin and prefix); the server is asked directly that the user exists;
//   - with --try-op ID: "Try it out" on that operation (no inputs) shows 200.
// A full-page screenshot is saved with --screenshot (the test's artifact).
// Every wait is bounded and the browser is always closed.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { parseArgs, usageExit, list, Checks, assert, assertEq, requireTool, specOperations } = require('./lib.js');

const USAGE = 'docs_test.js --base URL [--screenshot FILE] [--try-it-out] [--try-op ID]... [--expect-op ID]... [--expect-absent ID]...';
const args = parseArgs(process.argv.slice(2), USAGE);
if (typeof args.base !== 'string') usageExit(USAGE, '--base is required');
const base = args.base.replace(/\/+$/, '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ACTION_MS = 15000;
const WATCHDOG_MS = 150000;

const { chromium } = requireTool('playwright-core');
const checks = new Checks();
let browser = null;

// Last resort if something hangs past every per-step timeout.
const watchdog = setTimeout(async () => {
  console.log(`FAIL - watchdog: still running after ${WATCHDOG_MS} ms`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

async function fetchJson(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(ACTION_MS) });
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* reported below */ }
  return { status: r.status, body, text };
}

function opKey(o) {
  return `${o.method} ${o.path} ${o.operationId}`;
}

// The .opblock element of an operation, found by its displayed operationId.
function opBlock(page, operationId) {
  return page.locator('.opblock', {
    has: page.locator('.opblock-summary-operation-id', { hasText: new RegExp(`^${operationId}$`) }),
  });
}

// Expand an operation, press "Try it out", let fill() set the inputs, press
// Execute, and return what the page shows: status, parsed body, request URL.
async function tryItOut(page, operationId, fill) {
  const op = opBlock(page, operationId);
  assertEq(await op.count(), 1, `blocks for ${operationId}`);
  await op.locator('.opblock-summary-control').click();
  await op.locator('button.try-out__btn').click();
  await fill(op);
  await op.locator('button.execute').click();
  const live = op.locator('.live-responses-table .response');
  await live.locator('.response-col_status').waitFor({ timeout: ACTION_MS });
  const status = (await live.locator('.response-col_status').textContent()).trim();
  const bodyText = await live.locator('.highlight-code pre').first().textContent();
  const requestUrl = (await op.locator('.request-url pre').textContent()).trim();
  let body;
  try { body = JSON.parse(bodyText); } catch (e) { throw new Error(`response body is not JSON: ${bodyText.slice(0, 200)}`); }
  return { status, body, requestUrl };
}

async function main() {
  let spec = null;
  await checks.check(`${base}/openapi.json is served and lists operations`, async () => {
    const r = await fetchJson(`${base}/openapi.json`);
    assertEq(r.status, 200, 'status');
    assert(r.body && r.body.paths, 'no paths in the spec');
    spec = r.body;
    assert(specOperations(spec).length > 0, 'the spec has no operation');
  });
  if (!spec) return;
  const ops = specOperations(spec);
  const ids = new Set(ops.map((o) => o.operationId));
  for (const id of list(args['expect-op'])) {
    await checks.check(`the spec declares ${id}`, async () => assert(ids.has(id), `${id} not in ${[...ids].join(', ')}`));
  }
  for (const id of list(args['expect-absent'])) {
    await checks.check(`the spec does not declare ${id}`, async () => assert(!ids.has(id), `${id} is declared`));
  }

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30000,
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(ACTION_MS);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure() && r.failure().errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`); });

  let loaded = false;
  await checks.check(`${base}/docs opens Swagger UI at ${base}/docs/`, async () => {
    const r = await page.goto(`${base}/docs`, { timeout: 20000 });
    assertEq(r.status(), 200, 'final status');
    assertEq(page.url(), `${base}/docs/`, 'final URL');
    await page.locator('.swagger-ui .info .title').waitFor();
    const title = await page.locator('.swagger-ui .info .title').textContent();
    assert(title.includes(spec.info.title), `title "${title}" lacks "${spec.info.title}"`);
    loaded = true;
  });

  await checks.check('every operation of the spec is listed, and nothing else', async () => {
    assert(loaded, 'the page did not load');
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length >= n, ops.length, { timeout: ACTION_MS });
    const shown = await page.$$eval('.opblock', (els) => els.map((e) => ({
      method: (e.querySelector('.opblock-summary-method') || {}).textContent || '',
      path: (e.querySelector('.opblock-summary-path') || { getAttribute: () => '' }).getAttribute('data-path') || '',
      operationId: (e.querySelector('.opblock-summary-operation-id') || {}).textContent || '',
    })));
    const shownKeys = new Set(shown.map(opKey));
    const specKeys = new Set(ops.map(opKey));
    const missing = [...specKeys].filter((k) => !shownKeys.has(k));
    const extra = [...shownKeys].filter((k) => !specKeys.has(k));
    assert(missing.length === 0, `not listed: ${missing.join('; ')}`);
    assert(extra.length === 0, `listed but not in the spec: ${extra.join('; ')}`);
    console.log(`   ${specKeys.size} operations listed: ${ops.map((o) => o.operationId).join(', ')}`);
  });

  for (const id of list(args['expect-op'])) {
    await checks.check(`${id} is listed on the page`, async () => {
      assertEq(await opBlock(page, id).count(), 1, `blocks for ${id}`);
    });
  }

  await checks.check('the page loaded with no script error and no failed request', async () => {
    assert(loaded, 'the page did not load');
    assert(problems.length === 0, problems.join('; '));
  });

  if (args['try-it-out']) {
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`.replace(/[^A-Za-z0-9]/g, '');
    const username = `ui${suffix}`.slice(0, 32);
    const email = `${username}@example.com`;
    let created = null;
    await checks.check('Try it out: createUser shows 201 and the created user', async () => {
      assert(loaded, 'the page did not load');
      const r = await tryItOut(page, 'createUser', async (op) => {
        await op.locator('textarea.body-param__text').fill(JSON.stringify({ username, email }));
      });
      assertEq(r.status, '201', 'status shown');
      assertEq(r.requestUrl, `${base}/users`, 'request URL (same origin and prefix as the page)');
      assertEq(r.body.username, username, 'username shown');
      assertEq(r.body.email, email, 'email shown');
      assert(Number.isInteger(r.body.id) && r.body.id > 0, `id shown: ${r.body.id}`);
      assert(typeof r.body.created_at === 'string' && r.body.created_at === r.body.updated_at,
        `timestamps shown: ${r.body.created_at} / ${r.body.updated_at}`);
      created = r.body;
    });
    await checks.check('the user created in the browser is stored by the server', async () => {
      assert(created, 'no user was created');
      const r = await fetchJson(`${base}/users/${created.id}`);
      assertEq(r.status, 200, 'status');
      assertEq(r.body.username, username, 'username');
    });
    await checks.check('Try it out: getUser with that id shows 200 and the same user', async () => {
      assert(created, 'no user was created');
      const r = await tryItOut(page, 'getUser', async (op) => {
        await op.locator('tr[data-param-name="id"] input').fill(String(created.id));
      });
      assertEq(r.status, '200', 'status shown');
      assertEq(r.requestUrl, `${base}/users/${created.id}`, 'request URL');
      assertEq(r.body.id, created.id, 'id shown');
      assertEq(r.body.username, username, 'username shown');
      assertEq(r.body.email, email, 'email shown');
    });
  }

  for (const id of list(args['try-op'])) {
    await checks.check(`Try it out: ${id} shows 200`, async () => {
      assert(loaded, 'the page did not load');
      const r = await tryItOut(page, id, async () => {});
      assertEq(r.status, '200', 'status shown');
      const op = ops.find((o) => o.operationId === id);
      assert(op, `${id} is not in the spec`);
      assertEq(r.requestUrl, `${base}${op.path}`, 'request URL');
    });
  }

  if (typeof args.screenshot === 'string') {
    const file = args.screenshot;
    await checks.check(`screenshot saved to ${file}`, async () => {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await page.screenshot({ path: file, fullPage: true, timeout: ACTION_MS });
      const size = fs.statSync(file).size;
      assert(size > 10000, `only ${size} bytes`);
    });
  }
}

main()
  .catch((e) => checks.fail('docs browser test', e && e.stack ? e.stack : String(e)))
  .finally(async () => {
    if (browser) await browser.close().catch(() => {});
    clearTimeout(watchdog);
    process.exitCode = checks.summary() ? 0 : 1;
  });
