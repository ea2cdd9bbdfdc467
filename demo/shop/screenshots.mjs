// Takes the README's shop screenshots (docs/screenshots/shop-*.png) from a
// running shop demo, with the UI tests' Chromium and playwright-core:
//
//   ./bin/ariadne demo &          # wait ~2 minutes for the faults and issues
//   node demo/shop/screenshots.mjs [http://127.0.0.1:7070]
//
// Needs `npm ci` in web/ (for playwright-core) and Chromium (CHROMIUM,
// default /usr/bin/chromium).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { chromium } = await import(join(repo, "web/node_modules/playwright-core/index.mjs"));
const base = process.argv[2] ?? "http://127.0.0.1:7070";
const out = join(repo, "docs/screenshots");
const userData = mkdtempSync(join(tmpdir(), "ariadne-shots-"));
const ctx = await chromium.launchPersistentContext(userData, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1440, height: 900 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
});
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const shot = async (path, name, settle = 4000) => {
    await page.goto(base + path);
    await page.waitForTimeout(settle); // charts and the map lay out after data arrives
    await page.screenshot({ path: join(out, name + ".png") });
    console.log(name, path);
  };
  const get = (path) => fetch(base + path).then((r) => r.json());
  await shot("/issues", "shop-issues");
  await shot("/map", "shop-service-map", 6000);
  const drift = (await get("/api/v1/issues?kind=contract_drift")).issues;
  if (drift.length) await shot("/issues/" + drift[0].id, "shop-issue");
  const tx = (await get("/api/v1/transactions?limit=20")).transactions.sort((a, b) => b.traceCount - a.traceCount);
  if (tx.length) await shot("/transaction/" + tx[0].traceId, "shop-transaction", 5000);
} finally {
  await ctx.close();
  rmSync(userData, { recursive: true, force: true });
}
