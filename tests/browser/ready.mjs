// For `cargo xtask bench-show`: opens a dashboard in headless Chromium and prints, as JSON, how
// long after navigation a text is visible on the page (a table's name: the data has arrived,
// however the page gets it) and how much memory the browser's page uses.
//
// Usage: node ready.mjs --url URL --text TEXT [--chromium PATH] [--screenshot FILE]

import { DEFAULT_CHROMIUM, launch } from "./chromium.mjs";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    text: { type: "string" },
    chromium: { type: "string", default: DEFAULT_CHROMIUM },
    screenshot: { type: "string" },
  },
});
if (!args.url || !args.text) {
  console.error("usage: node ready.mjs --url URL --text TEXT [--chromium PATH] [--screenshot FILE]");
  process.exit(2);
}
const browser = await launch(args.chromium);
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const started = performance.now();
await page.goto(args.url, { waitUntil: "commit" });
await page.getByText(args.text, { exact: true }).first().waitFor({ state: "visible", timeout: 120_000 });
const visibleMs = performance.now() - started;
const heap = await page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
if (args.screenshot) await page.screenshot({ path: args.screenshot });
await browser.close();
console.log(JSON.stringify({ visible_ms: visibleMs, js_heap_mb: heap === null ? null : heap / 1048576 }));
