import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile, readdir, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ROOT } from "./node-bundle.mjs";
import { holdsPlaceholder } from "./page-placeholder.js";

/** Where the built contribute page (and the owner dashboard beside it) goes; wrangler.toml's `[assets]` serves it from here. */
export const WEB_PAGE_DIR = join(ROOT, "dist/web-client");

/** What the page is built from: its own sources and the workspace packages it bundles. */
const SOURCES = ["web-client/index.html", "web-client/dashboard.html", "web-client/vite.config.ts", "web-client/src", "web-client/build", "web-client/public", "edge-runtime/src", "shared/src"];

async function newestChange(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(path);
  const times = await Promise.all(entries.filter((e) => !e.endsWith(".test.ts")).map((e) => newestChange(join(path, e))));
  return Math.max(info.mtimeMs, ...times);
}

/**
 * Whether the page was never built (no index.html, or only the stand-in that launchers write so
 * that wrangler starts), is older than any of its sources, or is up to date.
 */
export async function webPageStatus(): Promise<"missing" | "stale" | "fresh"> {
  const built = await stat(join(WEB_PAGE_DIR, "index.html")).catch(() => undefined);
  const dashboard = await stat(join(WEB_PAGE_DIR, "dashboard.html")).catch(() => undefined);
  if (!built || !dashboard || (await holdsPlaceholder(WEB_PAGE_DIR))) return "missing";
  const newest = Math.max(...(await Promise.all(SOURCES.map((s) => newestChange(join(ROOT, s))))));
  return newest > built.mtimeMs ? "stale" : "fresh";
}

/**
 * Builds the contribute page with Vite (production, minified) into dist/web-client, unless it is
 * up to date. Vite runs in a process of its own: the calling script stays small when bundled.
 */
export async function ensureWebPage(options: { force?: boolean; log?: (line: string) => void } = {}): Promise<{ built: boolean; dir: string; seconds: number }> {
  const started = Date.now();
  if (!options.force && (await webPageStatus()) === "fresh") return { built: false, dir: WEB_PAGE_DIR, seconds: 0 };
  options.log?.("building the contribute page (vite build) ...");
  const webClient = join(ROOT, "web-client");
  const vite = join(dirname(createRequire(join(webClient, "package.json")).resolve("vite/package.json")), "bin/vite.js");
  const child = spawn(process.execPath, [vite, "build", "--logLevel", "error"], { cwd: webClient, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  for (const stream of [child.stdout!, child.stderr!]) stream.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`vite build of the contribute page failed (exit ${code}):\n${output.slice(-4000)}`);
  return { built: true, dir: WEB_PAGE_DIR, seconds: (Date.now() - started) / 1000 };
}

/**
 * Waits until a running control plane serves the page now in dist/web-client: wrangler dev watches
 * the assets folder and reloads its runtime after a build (under a second here), and requests in
 * the meantime may still get the previous page.
 */
export async function waitUntilPageServed(baseUrl: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const expected = await readFile(join(WEB_PAGE_DIR, "index.html"), "utf8");
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const served = await fetch(new URL("/", baseUrl)).then((r) => (r.ok ? r.text() : undefined), () => undefined);
    if (served === expected) return;
    if (Date.now() > deadline) throw new Error(`the control plane at ${baseUrl} still serves an older contribute page ${options.timeoutMs ?? 30_000} ms after the build; restart it`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
