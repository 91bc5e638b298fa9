// Signing in to the web UI: a wrong password is refused on the sign-in page, a right one
// leads to the pipeline board.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, signIn } from '../support.mjs';

const demo = demoForFile();

// A fresh context (own cookies) for each test, so that no test starts signed in.
async function withPage(run) {
  const context = await demo.browser.newContext();
  try {
    await run(await context.newPage());
  } finally {
    await context.close();
  }
}

test('a wrong password is refused and the page stays on sign-in', () =>
  withPage(async (page) => {
    const signInPath = `/app/${demo.server.workspace}/sign-in`;
    await page.goto(`${demo.server.base}${signInPath}`);
    await page.getByLabel('E-mail').fill(demo.server.users.rep.email);
    await page.getByLabel('Password').fill(`not-${demo.server.password}`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /wrong/i);
    assert.equal(new URL(page.url()).pathname, signInPath);
  }));

test('the rep signs in and lands on the pipeline board', () =>
  withPage(async (page) => {
    await signIn(page, demo.server, 'rep');
    assert.equal((await page.locator('h1').innerText()).trim(), 'Pipeline board');
  }));
