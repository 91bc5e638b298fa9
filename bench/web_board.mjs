// The board in headless Chromium: signs in, opens the board of the current quarter (up to
// 5,000 cards drawn) five times, and prints how long each took to become interactive (the
// page parsed and its script run: DOMContentLoaded) and to finish loading.
//
//   node bench/web_board.mjs BASE EMAIL PASSWORD
import { chromium } from "../e2e/node_modules/playwright-core/index.mjs";

const [base, email, password] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
await page.goto(`${base}/app/demo/sign-in`);
await page.getByLabel("E-mail").fill(email);
await page.getByLabel("Password").fill(password);
await page.getByRole("button", { name: "Sign in" }).click();
await page.waitForURL((url) => url.pathname.endsWith("/board"));
const period = await page.evaluate(async () => {
  const response = await fetch("/api/v1/workspaces/demo/forecast/snapshots");
  const snapshots = await response.json();
  return snapshots[0]?.period ?? "";
});
const url = `${base}/app/demo/board${period ? `?period=${period}` : ""}`;
const runs = [];
for (let i = 0; i < 5; i++) {
  await page.goto(url, { waitUntil: "load" });
  runs.push(await page.evaluate(() => {
    const [nav] = performance.getEntriesByType("navigation");
    return {
      cards: document.querySelectorAll(".card").length,
      response: nav.responseEnd - nav.startTime,
      interactive: nav.domContentLoadedEventEnd - nav.startTime,
      loaded: nav.loadEventEnd - nav.startTime,
    };
  }));
}
await browser.close();
const median = (key) => runs.map((r) => r[key]).sort((a, b) => a - b)[2];
console.log(`board ${period || "(all open)"}: ${runs[0].cards} cards`);
console.log(`  response ${(median("response") / 1000).toFixed(3)} s, interactive ${(median("interactive") / 1000).toFixed(3)} s, loaded ${(median("loaded") / 1000).toFixed(3)} s (median of 5)`);
