// The board runs the same move check as the API: a drag onto a stage whose criteria are
// unmet is refused with each criterion named on the card; once the deal room records them,
// the same drag moves the deal. A card's "Move…" button and the board's move dialog do the
// same from the keyboard.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoForFile, reloading, signIn } from '../support.mjs';

const demo = demoForFile();

/** Every column of the board: its stage, name, and the cards that can be moved. */
function columnsOf(page) {
  return page.locator('.column').evaluateAll((columns) =>
    columns.map((column) => ({
      stage: column.dataset.stage,
      name: column.querySelector('h2').textContent.trim(),
      count: Number(column.querySelector('[data-count]').textContent.replace(/,/g, '')),
      cards: [...column.querySelectorAll('.card[draggable]')].map((card) => ({
        id: card.dataset.deal,
        href: card.querySelector('h3 a').getAttribute('href'),
      })),
    })),
  );
}

/** The deal room's list of what the next move needs: `{ label, met, control }` each. */
function requirementsOf(page) {
  return page.locator('ul.criteria li').evaluateAll((items) =>
    items.map((li) => ({
      label: li.querySelector('.label').textContent.trim(),
      met: li.classList.contains('met'),
      control: li.querySelector('.control input, .control select') !== null,
    })),
  );
}

/** Drags `card` by its top edge (clear of its links and controls) onto `target`. */
function drag(card, target) {
  return card.dragTo(target, { sourcePosition: { x: 8, y: 4 }, targetPosition: { x: 20, y: 20 } });
}

/**
 * A deal the admin can move whose move to the next stage needs criteria the deal room can
 * record (checklist items, gates, scores) and that it does not meet yet.
 */
async function findRefusedMove(page) {
  const columns = await columnsOf(page);
  for (let i = 0; i + 1 < columns.length; i++) {
    for (const card of columns[i].cards) {
      await page.goto(demo.server.base + card.href);
      const heading = await page.locator('#next-heading').innerText();
      if (heading !== `To move to ${columns[i + 1].name}`) continue;
      const requirements = await requirementsOf(page);
      const unmet = requirements.filter((r) => !r.met);
      if (unmet.length > 0 && unmet.every((r) => r.control)) {
        return { card, from: columns[i], to: columns[i + 1], unmet: unmet.map((r) => r.label) };
      }
    }
  }
  throw new Error('no deal on the board needs only criteria the deal room records');
}

test('a drag onto a stage with unmet criteria names them; once met, the drag moves the deal', async () => {
  const context = await demo.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  try {
    await signIn(page, demo.server, 'admin');
    const move = await findRefusedMove(page);
    const board = `${demo.server.base}/app/${demo.server.workspace}/board`;

    await page.goto(board);
    const card = page.locator(`#deal-${move.card.id}`);
    const target = page.locator(`.column[data-stage="${move.to.stage}"] .cards`);
    await drag(card, target);
    const refusal = card.getByRole('alert');
    await refusal.locator('li').first().waitFor();
    assert.match(await refusal.innerText(), new RegExp(`Cannot move to ${move.to.name}`));
    const named = (await refusal.locator('li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual([...named].sort(), [...move.unmet].sort());
    assert.equal(
      await page.locator(`.column[data-stage="${move.from.stage}"] #deal-${move.card.id}`).count(),
      1,
      'a refused deal stays in its column',
    );

    // Record each criterion in the deal room, with the control it offers.
    await page.goto(demo.server.base + move.card.href);
    for (let round = 0; round < 12; round++) {
      const unmet = page.locator('ul.criteria li.unmet');
      if ((await unmet.count()) === 0) break;
      const first = unmet.first();
      const checkbox = first.locator('.control input[type="checkbox"]');
      const select = first.locator('.control select');
      const gate = first.locator('.control form');
      if (await checkbox.count()) {
        await reloading(page, () => checkbox.check());
      } else if (await select.count()) {
        const best = await select.locator('option').last().getAttribute('value');
        await reloading(page, () => select.selectOption(best));
      } else {
        await gate.getByRole('textbox').fill('Commercial review with the CFO on Tuesday');
        await reloading(page, () => gate.getByRole('button').click());
      }
    }
    const requirements = await requirementsOf(page);
    assert.ok(requirements.length > 0 && requirements.every((r) => r.met), JSON.stringify(requirements));

    await page.goto(board);
    const before = (await columnsOf(page)).find((c) => c.stage === move.to.stage).count;
    await drag(page.locator(`#deal-${move.card.id}`), page.locator(`.column[data-stage="${move.to.stage}"] .cards`));
    const moved = page.locator(`.column[data-stage="${move.to.stage}"] #deal-${move.card.id}`);
    await moved.waitFor();
    assert.equal(await moved.locator('[role="alert"]').textContent(), '');
    const after = (await columnsOf(page)).find((c) => c.stage === move.to.stage).count;
    assert.equal(after, before + 1, "the column's count follows the move");

    // The server holds the move: the deal room shows the deal in its new stage.
    await page.goto(demo.server.base + move.card.href);
    assert.equal(await page.locator('ol.path [aria-current="step"]').innerText(), move.to.name);
  } finally {
    await context.close();
  }
});

test('the move control works from the keyboard and shows a refusal the same way', async () => {
  const context = await demo.browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  try {
    await signIn(page, demo.server, 'admin');
    const move = await findRefusedMove(page);
    await page.goto(`${demo.server.base}/app/${demo.server.workspace}/board`);
    const card = page.locator(`#deal-${move.card.id}`);
    await card.getByRole('button', { name: 'Move…' }).focus();
    await page.keyboard.press('Enter');
    const select = page.getByRole('dialog').getByLabel(/^Move .* to$/);
    assert.ok(await select.evaluate((element) => element === document.activeElement), 'the dialog opens on its stages');
    await select.selectOption(move.to.stage);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Move');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    const refusal = card.getByRole('alert');
    await refusal.locator('li').first().waitFor();
    const named = (await refusal.locator('li').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual([...named].sort(), [...move.unmet].sort());
  } finally {
    await context.close();
  }
});
