// Administration: a process file with an error is refused with the error located and
// nothing applied; an API token is shown once and listed; a quota set in the form is listed.
// The lead queue's fit × intent matrix counts every waiting lead; the table lists the most urgent.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, signIn } from '../support.mjs';

const demo = demoForFile();
let signedIn;

/** One page signed in as the admin, shared by the file's tests. */
async function adminPage() {
  if (!signedIn) {
    signedIn = await (await demo.browser.newContext()).newPage();
    await signIn(signedIn, demo.server, 'admin');
  }
  return signedIn;
}

const admin = () => `${demo.server.base}/app/${demo.server.workspace}/admin`;

test('a process file with an error is refused, located, and nothing is applied', async () => {
  const page = await adminPage();
  await page.goto(admin());
  const heading = await page.locator('#process-heading').innerText();
  const file = page.locator('form[data-form="process"] textarea').first();
  const name = await file.getAttribute('name');
  const text = await file.inputValue();
  await file.fill(text.replace('typical_days = 14', 'typical_days = "two weeks"'));
  await page.getByRole('button', { name: /^Apply as version/ }).click();
  const refusal = page.locator('form[data-form="process"] [role="alert"]');
  await refusal.locator('li').first().waitFor();
  assert.match(await refusal.innerText(), new RegExp(name.replace('.', '\\.')));
  await page.goto(admin());
  assert.equal(await page.locator('#process-heading').innerText(), heading);
});

test('an API token is shown once, then listed and revoked', async () => {
  const page = await adminPage();
  await page.goto(admin());
  await page.getByLabel('Token name').fill('Nightly export');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.locator('output.secret');
  await secret.filter({ hasText: 'Copy the token now' }).waitFor();
  await page.goto(admin());
  const revoke = page.getByRole('button', { name: 'Revoke Nightly export' });
  assert.equal(await revoke.count(), 1);
  await Promise.all([page.waitForEvent('load'), revoke.click()]);
  assert.equal(await page.getByRole('button', { name: 'Revoke Nightly export' }).count(), 0);
  assert.match(await page.locator('#tokens-heading + table').innerText(), /Revoked/);
});

test('a quota set in the form is listed', async () => {
  const page = await adminPage();
  await page.goto(admin());
  const month = new Date().toISOString().slice(0, 7);
  await page.getByLabel('Whose').selectOption({ label: demo.server.users.rep.name });
  await page.getByLabel('Period').fill(month);
  await page.getByLabel('Amount').fill('123456');
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Set quota' }).click()]);
  const row = page.locator('#quotas-heading + table tbody tr').filter({ hasText: demo.server.users.rep.name }).filter({ hasText: month });
  assert.equal(await row.count(), 1);
  assert.match(await row.innerText(), /\$123,456/);
});

test("the lead queue's matrix counts every waiting lead and the table lists the most urgent", async () => {
  const page = await adminPage();
  await page.goto(`${demo.server.base}/app/${demo.server.workspace}/leads`);
  const cells = await page.locator('table.matrix td strong').allInnerTexts();
  const counted = cells.map(Number).reduce((a, b) => a + b, 0);
  const heading = await page.locator('#queue-heading').innerText();
  assert.equal(heading, `Waiting (${counted})`);
  // The table lists the 250 most urgent; the matrix and the heading count every waiting lead.
  const listed = await page.locator('table[aria-label="Lead queue"] tbody tr').count();
  assert.equal(listed, Math.min(counted, 250));
  const urgent = page.getByText(`The ${listed} most urgent are listed.`);
  assert.equal(await urgent.count(), counted > listed ? 1 : 0);
});
