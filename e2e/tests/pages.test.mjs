// Every page renders for a signed-in person: each dashboard's charts draw marks, every form
// control has a label, and a viewer is offered no change and refused one made anyway.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, signIn } from '../support.mjs';

const demo = demoForFile();

const PAGES = ['board', 'forecast', 'forecast/backtest', 'diagnostics', 'hygiene', 'leads', 'admin'];

/** The marks each chart draws: bars, steps, columns and lines with a size. */
function chartMarks(page) {
  return page.locator('figure.chart').evaluateAll((figures) =>
    figures.map((figure) => ({
      id: figure.id,
      marks: [...figure.querySelectorAll('rect.bar, rect.step, polyline')].filter((mark) =>
        mark.tagName === 'polyline'
          ? mark.getAttribute('points').trim().split(' ').length > 1
          : Number(mark.getAttribute('width')) > 0 && Number(mark.getAttribute('height')) > 0,
      ).length,
    })),
  );
}

/** Form controls without an accessible name. */
function unlabelled(page) {
  return page.locator('input, select, textarea').evaluateAll((controls) =>
    controls
      .filter((c) => c.type !== 'hidden')
      .filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label'))
      .map((c) => c.outerHTML),
  );
}

test('every dashboard renders charts that draw their data', async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.server, 'manager');
  const expected = { forecast: 1, 'forecast/backtest': 2, diagnostics: 6, hygiene: 1 };
  for (const [path, least] of Object.entries(expected)) {
    const response = await page.goto(`${demo.server.base}/app/${demo.server.workspace}/${path}`);
    assert.equal(response.status(), 200, path);
    const charts = await chartMarks(page);
    assert.ok(charts.length >= least, `${path}: ${charts.length} charts`);
    for (const chart of charts) assert.ok(chart.marks > 0, `${path}: chart ${chart.id} draws nothing`);
    assert.equal(await page.locator('figure.chart svg[role="img"] > title').count(), charts.length);
  }
  await context.close();
});

test('every form control on every page has a label, and the deal room too', async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.server, 'admin');
  const deal = await page.locator('.card h3 a').first().getAttribute('href');
  for (const path of [...PAGES.map((p) => `/app/${demo.server.workspace}/${p}`), deal]) {
    await page.goto(demo.server.base + path);
    assert.deepEqual(await unlabelled(page), [], path);
    assert.equal(await page.locator('a.skip[href="#content"]').count(), 1, path);
  }
  await context.close();
});

test('a viewer is offered no change, and a change sent anyway is refused', async () => {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  await signIn(page, demo.server, 'viewer');
  assert.ok((await page.locator('.card').count()) > 0, 'the viewer sees the deals');
  assert.equal(await page.locator('.card[draggable]').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Move' }).count(), 0);

  const deal = page.locator('.card').first();
  const href = await deal.locator('h3 a').getAttribute('href');
  const id = await deal.getAttribute('data-deal');
  const version = await deal.getAttribute('data-version');
  await page.goto(demo.server.base + href);
  assert.equal(await page.getByRole('button', { name: /^Move to|^Close won/ }).count(), 0);
  assert.equal(await page.locator('.control').count(), 0);
  for (const box of await page.getByRole('checkbox').all()) assert.ok(await box.isDisabled());

  await page.goto(`${demo.server.base}/app/${demo.server.workspace}/forecast`);
  assert.equal(await page.getByRole('button', { name: 'Submit call' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Take a snapshot now' }).count(), 0);

  // The API refuses what the page does not offer.
  const status = await page.evaluate(async ({ workspace, id, version }) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const response = await fetch(`/api/v1/workspaces/${workspace}/opportunities/${id}/evidence`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, 'if-match': `"${version}"` },
      body: JSON.stringify({ evidence: 'checked', item: 'vendor_of_choice', done: true }),
    });
    return response.status;
  }, { workspace: demo.server.workspace, id, version });
  assert.equal(status, 403);
  await context.close();
});
