// Drives one `bdi load show` dashboard in a real headless Chromium, as a person would, and fails
// on the first thing a person would find wrong:
// - every page loads with no console error, no script error and no failed request;
// - every chart is drawn, and its marks carry exactly the numbers its SQL returns when the chart's
//   "Run in the SQL box" link is followed (the SQL box shows the result as a table);
// - the SQL box refuses a DELETE, and the table still has its rows afterwards;
// - the CSV download holds the rows the page shows;
// - with JavaScript off, the tables and the charts are the same.
// Screenshots of each view go to --out.
//
// Usage: node dashboard.mjs --url http://127.0.0.1:PORT/ --kind flow|history --out DIR
//        [--chromium /usr/bin/chromium]

import { DEFAULT_CHROMIUM, launch } from "./chromium.mjs";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    kind: { type: "string" },
    out: { type: "string" },
    chromium: { type: "string", default: DEFAULT_CHROMIUM },
  },
});
if (!args.url || !["flow", "history"].includes(args.kind) || !args.out) {
  console.error("usage: node dashboard.mjs --url URL --kind flow|history --out DIR [--chromium PATH]");
  process.exit(2);
}
const base = new URL(args.url);
mkdirSync(args.out, { recursive: true });

const problems = [];
const checks = [];
function check(ok, what) {
  if (ok) checks.push(what);
  else problems.push(what);
}

const browser = await launch(args.chromium);
const context = await browser.newContext({
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
  javaScriptEnabled: true,
});
const page = await context.newPage();
page.on("console", (m) => {
  if (m.type() === "error" || m.type() === "warning") {
    problems.push(`console ${m.type()} on ${page.url()}: ${m.text()}`);
  }
});
page.on("pageerror", (e) => problems.push(`script error on ${page.url()}: ${e.message}`));
page.on("requestfailed", (r) => {
  // A download is handed to the browser, not failed.
  if (!r.url().includes("/sql.csv")) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
});
page.on("response", (r) => {
  if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
});

async function shot(name) {
  const path = join(args.out, `${args.kind}-${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

async function go(path) {
  const response = await page.goto(new URL(path, base).href, { waitUntil: "load" });
  check(response && response.status() === 200, `GET ${path} answers 200 (got ${response?.status()})`);
}

/** The SQL box's result table: its column names and its rows as text. */
async function resultTable() {
  return page.evaluate(() => {
    const table = document.querySelector("div.scroll table.result");
    if (!table) return null;
    const columns = [...table.querySelectorAll("thead th")].map((th) => th.textContent);
    const rows = [...table.querySelectorAll("tbody tr")].map((tr) =>
      [...tr.querySelectorAll("td")].map((td) => (td.classList.contains("null") ? "" : td.textContent)),
    );
    return { columns, rows };
  });
}

// 1. The overview: the tables with their row counts.
await go("/");
const tables = await page.$$eval("#tables tbody tr", (trs) =>
  trs.map((tr) => ({
    name: tr.querySelector("td a").textContent,
    rows: Number(tr.querySelectorAll("td")[1].textContent),
  })),
);
check(tables.length > 0, `the overview lists ${tables.length} tables`);
check((await page.$$("#loads tbody tr")).length > 0, "the overview lists the loads");
// Columns and types open without script (a <details>).
await page.click("#tables tbody tr:first-child details summary");
check(await page.isVisible("#tables tbody tr:first-child ul.columns li"), "a table's columns show on a click");
const overviewShot = await shot("overview");

// 2. A table's page: its columns and first rows.
const biggest = tables.reduce((a, b) => (b.rows > a.rows ? b : a));
await page.click(`#tables a[href="/tables/${biggest.name}"]`);
await page.waitForLoadState("load");
const preview = await resultTable();
check(preview && preview.rows.length === Math.min(biggest.rows, 100),
  `table ${biggest.name} shows its first ${Math.min(biggest.rows, 100)} rows (got ${preview?.rows.length})`);
await shot("table");

// 3. The charts: each drawn, each with the numbers of its SQL.
await go("/charts");
const charts = await page.$$eval("figure.chart", (figures) =>
  figures.map((f) => {
    const svg = f.querySelector("svg[data-chart]");
    return {
      id: f.id.replace(/^chart-/, ""),
      title: f.querySelector("h2").textContent,
      kind: svg?.dataset.kind,
      marks: svg
        ? [...svg.querySelectorAll("rect[data-value]")].map((r) => {
            const box = r.getBoundingClientRect();
            return {
              key: r.dataset.x ?? r.dataset.label,
              series: r.dataset.series,
              value: r.dataset.value,
              drawn: box.width > 0 || box.height > 0,
            };
          })
        : [],
      problem: f.querySelector(".error, .empty")?.textContent ?? null,
    };
  }),
);
const expectedCharts = args.kind === "history" ? 4 : 2;
check(charts.length === expectedCharts, `${charts.length} charts on the page (expected ${expectedCharts})`);
await shot("charts");
for (const chart of charts) {
  check(chart.problem === null, `chart ${chart.id} draws (${chart.problem ?? "ok"})`);
  check(chart.marks.length > 0, `chart ${chart.id} has ${chart.marks.length} marks`);
  const undrawn = chart.marks.filter((m) => Number(m.value) > 0 && !m.drawn);
  check(undrawn.length === 0, `chart ${chart.id}: every non-zero mark is drawn (${undrawn.length} are not)`);
  // Its SQL is one click away: open it, then run it in the SQL box.
  await go("/charts");
  const figure = page.locator(`#chart-${chart.id}`);
  await figure.locator("details.sql summary").click();
  const sqlShown = await figure.locator("details.sql pre").textContent();
  await Promise.all([page.waitForLoadState("load"), figure.locator("a[data-run-sql]").click()]);
  await page.waitForSelector("table.result, p.error");
  check((await page.inputValue("textarea#q")).trim() === sqlShown.trim(), `chart ${chart.id}: the SQL box holds the chart's SQL`);
  const result = await resultTable();
  if (!result) {
    problems.push(`chart ${chart.id}: its SQL gave no table in the SQL box`);
    continue;
  }
  const want = new Set();
  for (const row of result.rows) {
    if (chart.kind === "stacked") want.add(JSON.stringify([row[0], row[1], row[2]]));
    else {
      for (const series of new Set(chart.marks.map((m) => m.series))) {
        want.add(JSON.stringify([row[0], series, row[result.columns.indexOf(series)]]));
      }
    }
  }
  const got = new Set(chart.marks.map((m) => JSON.stringify([m.key, m.series, m.value])));
  const missing = [...want].filter((x) => !got.has(x));
  const extra = [...got].filter((x) => !want.has(x));
  check(missing.length === 0 && extra.length === 0 && got.size === want.size,
    `chart ${chart.id}: its ${got.size} marks are the ${want.size} numbers of its SQL` +
      (missing.length || extra.length ? ` (missing ${missing.slice(0, 3)}; extra ${extra.slice(0, 3)})` : ""));
}

// 4. The SQL box refuses a DELETE and keeps the data.
const target = biggest.name;
await go("/sql");
await page.fill("textarea#q", `DELETE FROM ${target}`);
await Promise.all([page.waitForLoadState("load"), page.click("form.sql button[type=submit]")]);
const refused = await page.textContent("p.refused").catch(() => null);
check(refused !== null && refused.startsWith("Refused:"), `the SQL box refuses a DELETE ("${refused}")`);
check((await resultTable()) === null, "a refused query shows no result");
await shot("sql-refused");
await page.fill("textarea#q", `SELECT count(*) AS n FROM ${target}`);
await Promise.all([page.waitForLoadState("load"), page.click("form.sql button[type=submit]")]);
const count = await resultTable();
check(count && Number(count.rows[0][0]) === biggest.rows, `${target} still has its ${biggest.rows} rows (got ${count?.rows[0]?.[0]})`);

// 5. A result and its CSV.
await page.fill("textarea#q", `SELECT * FROM ${target} LIMIT 20`);
await Promise.all([page.waitForLoadState("load"), page.click("form.sql button[type=submit]")]);
const shown = await resultTable();
await shot("sql");
const [download] = await Promise.all([page.waitForEvent("download"), page.click("text=Download CSV")]);
const csv = readFileSync(await download.path(), "utf8").trimEnd().split("\n");
check(csv[0] === shown.columns.join(","), "the CSV's header is the result's columns");
check(csv.length - 1 === shown.rows.length, `the CSV holds the ${shown.rows.length} rows shown (got ${csv.length - 1})`);

// 6. Without JavaScript, the same tables and the same charts.
const noScript = await browser.newContext({ javaScriptEnabled: false });
const plain = await noScript.newPage();
await plain.goto(new URL("/", base).href);
const plainTables = await plain.$$eval("#tables tbody tr", (trs) => trs.length);
check(plainTables === tables.length, `without JavaScript the overview lists the ${tables.length} tables (got ${plainTables})`);
await plain.goto(new URL("/charts", base).href);
const plainMarks = await plain.$$eval("svg[data-chart] rect[data-value]", (rects) => rects.length);
const marks = charts.reduce((n, c) => n + c.marks.length, 0);
check(plainMarks === marks, `without JavaScript the charts have their ${marks} marks (got ${plainMarks})`);
await noScript.close();

await browser.close();
const report = { url: base.href, kind: args.kind, checks: checks.length, problems, screenshots: args.out, overview: overviewShot };
console.log(JSON.stringify(report, null, 2));
if (problems.length > 0) {
  console.error(`${problems.length} problem(s) in the ${args.kind} dashboard:\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
