/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** The machine's Chromium (Debian's package); `.ci/run` installs it when missing. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless, offline flags: without the background-networking ones Chromium keeps calling outside hosts. */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Tab {
  page: Page;
  context: BrowserContext;
  /** The page's console errors and uncaught exceptions, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium on a fresh profile (WebGPU only with `webgpu`) and opens one tab at `url`. */
export async function openTab(url: string, options: { webgpu: boolean }): Promise<Tab> {
  const profile = await mkdtemp(join(tmpdir(), "propius-chromium-"));
  const args = options.webgpu ? [...FLAGS, "--enable-unsafe-webgpu"] : FLAGS;
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args, viewport: { width: 1100, height: 1300 } });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return {
    page,
    context,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** What the page shows, read from its DOM. */
export async function readPage(page: Page) {
  return page.evaluate(() => {
    const cells = (selector: string) => [...document.querySelectorAll(selector)].map((row) => [...(row as HTMLTableRowElement).cells].map((c) => c.textContent ?? ""));
    return {
      state: document.body.dataset.state ?? "",
      status: document.querySelector("#status")?.textContent ?? "",
      backend: document.querySelector("#backend")?.textContent ?? "",
      capabilities: document.querySelector("#capabilities")?.textContent ?? "",
      probes: cells("#probes tbody tr"),
      history: cells("#history tbody tr"),
      bytesUp: document.querySelector("#bytes-up")?.textContent ?? "",
      inference: document.querySelector("#inference")?.textContent ?? "",
      stored: Object.entries(localStorage).map(([key, value]) => [key, JSON.parse(value)] as [string, { credentials: { clientId: string } | null }]),
    };
  });
}
