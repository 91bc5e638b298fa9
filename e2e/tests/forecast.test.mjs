// A rep's forecast call changes their manager's roll-up: the rep's own number and the
// manager's cumulative number move by the amount of the deal the call puts in or leaves out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, signIn } from '../support.mjs';

const demo = demoForFile();

/** `2026-Q4` → `2027-Q1`. */
function nextQuarter(period) {
  const [year, quarter] = period.split('-Q').map(Number);
  return quarter === 4 ? `${year + 1}-Q1` : `${year}-Q${quarter + 1}`;
}

/** The roll-up's numbers (minor units) of the person named `name`. */
async function rollUpRow(page, name) {
  const row = page.locator('table[aria-label="Roll-up"] tbody tr').filter({
    has: page.getByRole('rowheader', { name, exact: true }),
  });
  assert.equal(await row.count(), 1, `one roll-up row for ${name}`);
  const number = async (column) => Number(await row.locator(`[data-column="${column}"]`).getAttribute('data-minor'));
  return { single: await number('single'), cumulative: await number('cumulative') };
}

async function newPage() {
  const context = await demo.browser.newContext({ viewport: { width: 1400, height: 1000 } });
  return context.newPage();
}

test("a rep's call changes the manager's roll-up", async () => {
  const rep = await newPage();
  await signIn(rep, demo.server, 'rep');
  // The first quarter, from the current one, in which the rep has open deals to call.
  await rep.goto(`${demo.server.base}/app/${demo.server.workspace}/forecast`);
  let period = (await rep.locator('h1').innerText()).replace('Forecast ', '');
  for (let tries = 0; tries < 4 && (await rep.locator('form[data-form="call"]').count()) === 0; tries++) {
    period = nextQuarter(period);
    await rep.goto(`${demo.server.base}/app/${demo.server.workspace}/forecast?period=${period}`);
  }
  const line = rep.locator('form[data-form="call"] tr[data-line]').first();
  await line.waitFor();
  const amount = Number(await line.getAttribute('data-amount'));
  assert.ok(amount > 0);

  const manager = await newPage();
  await signIn(manager, demo.server, 'manager');
  const forecast = `${demo.server.base}/app/${demo.server.workspace}/forecast?period=${period}`;
  await manager.goto(forecast);
  const repBefore = await rollUpRow(manager, demo.server.users.rep.name);
  const managerBefore = await rollUpRow(manager, demo.server.users.manager.name);

  // Flip the first deal: in the number if it was out, out if it was in.
  const include = line.getByRole('checkbox');
  const wasIncluded = await include.isChecked();
  await include.setChecked(!wasIncluded);
  await line.getByRole('textbox').fill('Signature date confirmed by the buyer; legal review on schedule');
  await Promise.all([rep.waitForEvent('load'), rep.getByRole('button', { name: 'Submit call' }).click()]);
  assert.equal(await rep.locator('form[data-form="call"] [role="alert"]').innerText(), '');

  const change = wasIncluded ? -amount : amount;
  await manager.goto(forecast);
  const repAfter = await rollUpRow(manager, demo.server.users.rep.name);
  const managerAfter = await rollUpRow(manager, demo.server.users.manager.name);
  assert.equal(repAfter.single, repBefore.single + change);
  assert.equal(managerAfter.cumulative, managerBefore.cumulative + change);
});
