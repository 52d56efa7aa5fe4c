/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { findChromium } from "./find-chromium.js";

export { describeChromium, findChromium, type FoundChromium } from "./find-chromium.js";

/** Headless, offline flags: without the background-networking ones Chromium keeps calling outside hosts. */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

export interface Tab {
  page: Page;
  context: BrowserContext;
  /** The page's console errors and uncaught exceptions, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium (the one `findChromium` gives) on a fresh profile (WebGPU only with `webgpu`) and opens one tab at `url`. */
export async function openTab(url: string, options: { webgpu: boolean }): Promise<Tab> {
  const profile = await mkdtemp(join(tmpdir(), "propius-chromium-"));
  const args = options.webgpu ? [...FLAGS, "--enable-unsafe-webgpu"] : FLAGS;
  const context = await chromium.launchPersistentContext(profile, { executablePath: (await findChromium()).path, headless: true, args, viewport: { width: 1100, height: 1300 },
    // A C or POSIX locale in the environment gives `navigator.language` "en-US@posix", which Intl refuses.
    locale: "en-US" });
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

/**
 * The WebGPU adapter this tab's browser gives, asked from the page itself (apart from the page's
 * own probe, which runs in its training worker), described as the page describes it; null when
 * there is none (no `navigator.gpu`, or no adapter).
 */
export async function webgpuAdapterOf(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> } }).gpu;
    const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed adapter";
  });
}
