// Starts Debian's headless Chromium for the browser scripts (dashboard.mjs, ready.mjs).
// As root it needs --no-sandbox; the network flags keep it from calling home (the machine has
// no internet). A crash while starting (seen once on a loaded machine) is retried once: it is
// the browser's, not the page's.

import { chromium } from "playwright-core";

const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"];

/** The path of Chromium: `--chromium`, else BDI_CHROMIUM, else Debian's. */
export const DEFAULT_CHROMIUM = process.env.BDI_CHROMIUM || "/usr/bin/chromium";

export async function launch(executablePath) {
  const start = () => chromium.launch({ executablePath, headless: true, args: ARGS });
  return start().catch((e) => {
    console.error(`Chromium did not start (${String(e).split("\n")[0]}); trying once more`);
    return start();
  });
}
