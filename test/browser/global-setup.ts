import { describeChromium, findChromium } from "../../scripts/lib/find-chromium.js";

/**
 * Finds (and, for the npm-shipped Chromium, unpacks) the browser once, before the test files
 * start, and says which one the browser tests drive; `openTab` in the tests then finds the same.
 */
export default async function setup(): Promise<void> {
  const started = Date.now();
  const chromium = await findChromium();
  process.stdout.write(`browser tests drive ${describeChromium(chromium)}, found in ${Date.now() - started} ms (Node ${process.version})\n`);
}
