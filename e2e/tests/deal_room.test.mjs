// The deal room records what the buyer has shown: milestones of a mutual action plan on
// both sides make it agreed, a stakeholder and a success criterion join their lists, and a
// changed amount shows in the summary and the timeline.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, reloading, signIn } from '../support.mjs';

const demo = demoForFile();

test('milestones, a stakeholder, a success criterion and an amount are recorded', async () => {
  const page = await (await demo.browser.newContext()).newPage();
  await signIn(page, demo.server, 'admin');
  // A deal with no plan yet whose account has people to map.
  const hrefs = await page.locator('.card h3 a').evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  let found = false;
  for (const href of hrefs) {
    await page.goto(demo.server.base + href);
    const planless = (await page.locator('#plan-heading + p').innerText()).startsWith('No milestones');
    if (planless && (await page.getByRole('button', { name: 'Map stakeholder' }).count()) === 1) {
      found = true;
      break;
    }
  }
  assert.ok(found, 'a deal without a plan, on an account with contacts');

  const plan = page.locator('form[data-evidence-form="milestone_set"]');
  for (const [title, side, owner] of [
    ['Security review signed off', 'buyer', 'Their CISO'],
    ['Reference call arranged', 'seller', 'Our account executive'],
  ]) {
    await plan.getByLabel('Milestone').fill(title);
    await plan.getByLabel('Side').selectOption(side);
    await plan.getByLabel('Owner').fill(owner);
    await plan.getByLabel('Due').fill('2099-06-30');
    await reloading(page, () => plan.getByRole('button', { name: 'Add milestone' }).click());
  }
  assert.equal(await page.locator('#plan-heading + p').innerText(), 'Agreed and on track.');
  assert.equal(await page.locator('#plan-heading ~ table tbody tr').count(), 2);

  const map = page.locator('form[data-evidence-form="stakeholder_set"]');
  const person = (await map.getByLabel('Person').locator('option').first().innerText()).split(',')[0];
  await map.getByLabel('Role').selectOption('economic_buyer');
  await map.getByLabel('Engagement').selectOption('engaged');
  await reloading(page, () => map.getByRole('button', { name: 'Map stakeholder' }).click());
  const mapped = page.locator('#stakeholders-heading ~ table tbody tr').filter({ hasText: person });
  assert.match(await mapped.innerText(), /economic buyer\s+engaged/);

  const success = page.locator('form[data-evidence-form="success_criterion_set"]');
  await success.getByLabel('Metric').fill('Hours spent on the monthly close');
  await success.getByLabel('Baseline').fill('40 hours');
  await success.getByLabel('Target').fill('10 hours');
  await success.getByLabel('Measured by').fill('2099-03-31');
  await success.getByLabel('How it is measured').fill('Close checklist timestamps');
  await reloading(page, () => success.getByRole('button', { name: 'Add success criterion' }).click());
  assert.match(await page.locator('#success-heading + ul').innerText(), /Hours spent on the monthly close: from 40 hours to 10 hours/);

  await page.getByText("Change the deal's fields").click();
  const fields = page.locator('form[data-form="deal-fields"]');
  await fields.getByLabel(/^Amount/).fill('98765');
  await reloading(page, () => fields.getByRole('button', { name: 'Save the fields' }).click());
  assert.match(await page.locator('dl.summary').innerText(), /Amount\s+[^\n]*98,765/);
  assert.match(await page.locator('ol.timeline li').first().innerText(), /Amount changed from .* to .*98,765/);
});
