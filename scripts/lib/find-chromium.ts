import { execFile } from "node:child_process";
import { access, constants, mkdtemp, readFile, rename, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { PropiusError } from "@propius/shared";

/** The browser the tests and the browser benchmark drive, and where it came from. */
export interface FoundChromium {
  path: string;
  /** How it was found: `CHROMIUM_PATH`, `system`, or `npm` (the dev dependency @sparticuz/chromium). */
  source: "CHROMIUM_PATH" | "system" | "npm";
  /** What the binary prints for `--version`, e.g. "Chromium 153.0.8010.0". */
  version: string;
}

/** Where distributions and Google's package install Chromium, in the order they are tried. */
export const SYSTEM_CHROMIUMS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The npm package whose Chromium is used when the machine has none. */
const SHIPPED = "@sparticuz/chromium";
const run = promisify(execFile);
let found: Promise<FoundChromium> | undefined;

/**
 * The Chromium to drive: `CHROMIUM_PATH` if set (it must work), else the first system Chromium
 * that answers `--version`, else the one shipped inside the npm package @sparticuz/chromium,
 * unpacked once per version into the temp folder (`CHROMIUM_PATH=@sparticuz/chromium` picks that
 * one even where the system has a Chromium). Found once per process.
 */
export function findChromium(): Promise<FoundChromium> {
  found ??= locateChromium();
  found.catch(() => (found = undefined));
  return found;
}

/** One line for logs: which browser, its version and how it was found. */
export function describeChromium({ path, source, version }: FoundChromium): string {
  const how = { CHROMIUM_PATH: "from CHROMIUM_PATH", system: "the system's", npm: "shipped in the npm package @sparticuz/chromium" }[source];
  return `${version} (${how}, ${path})`;
}

/** `findChromium` without the memory: looks again, reading `CHROMIUM_PATH` from `env`. */
export async function locateChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  const chosen = env.CHROMIUM_PATH;
  // The package's name in place of a path skips the system's browser: the fresh machine's case.
  if (chosen === SHIPPED) return shippedChromium();
  if (chosen) {
    const version = await versionOf(chosen);
    if (!version) throw new PropiusError("not_configured", `CHROMIUM_PATH=${chosen} is not a Chromium that runs (\`${chosen} --version\` failed)`);
    return { path: chosen, source: "CHROMIUM_PATH", version };
  }
  for (const path of SYSTEM_CHROMIUMS) {
    // Ubuntu's chromium-browser can be a stub that asks for a snap: only a binary that answers counts.
    const version = await versionOf(path);
    if (version) return { path, source: "system", version };
  }
  return shippedChromium();
}

async function shippedChromium(): Promise<FoundChromium> {
  const path = await unpackShippedChromium();
  const version = await versionOf(path);
  if (!version) throw new PropiusError("not_configured", `the Chromium unpacked from ${SHIPPED} at ${path} does not run: remove ${dirname(path)} to unpack it again, or set CHROMIUM_PATH to a Chromium`);
  return { path, source: "npm", version };
}

/** What `path --version` prints, or null when it is missing, not executable or fails. */
async function versionOf(path: string): Promise<string | null> {
  try {
    await access(path, constants.X_OK);
    const { stdout } = await run(path, ["--version"], { timeout: 30_000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/**
 * Unpacks @sparticuz/chromium's brotli archives (the browser, its SwiftShader libraries and
 * fonts: about 210 MB) into `<tmp>/propius-npm-chromium-<version>/`, or reuses that folder. The
 * package itself always unpacks into the temp folder's root as `chromium`, reused whatever version
 * left it there, and a run stopped halfway leaves a truncated binary that it would reuse too; so
 * it unpacks into a fresh folder of its own that is renamed into place only once complete (a
 * rename is atomic: of two processes unpacking at once, one wins, the other removes its copy).
 */
async function unpackShippedChromium(): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new PropiusError("not_configured", `no Chromium at ${SYSTEM_CHROMIUMS.join(", ")}, and the npm-shipped one runs on Linux x64 only (this is ${process.platform} ${process.arch}): set CHROMIUM_PATH to a Chromium or Chrome`);
  }
  // The archives' folder is passed in: the package finds it from its own module's URL, which is
  // wrong once esbuild has bundled it (the bundles live under node_modules/.cache, so this resolves).
  const entry = createRequire(import.meta.url).resolve("@sparticuz/chromium");
  const packageDir = join(dirname(entry), "..");
  const { version } = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as { version: string };
  const target = join(tmpdir(), `propius-npm-chromium-${version}`);
  if (await versionOf(join(target, "chromium"))) return join(target, "chromium");

  const partial = await mkdtemp(`${target}.partial-`);
  try {
    const { default: Chromium } = await import("@sparticuz/chromium");
    // The package reads the temp folder from TMPDIR synchronously, before its first await: the
    // variable is pointed at the fresh folder for that call only.
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = partial;
    let unpacking: Promise<string>;
    try {
      unpacking = Chromium.executablePath(join(packageDir, "bin"));
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    const unpacked = await unpacking;
    if (unpacked !== join(partial, "chromium")) throw new PropiusError("internal", `@sparticuz/chromium ${version} unpacked to ${unpacked}, not into ${partial}`);
    await rename(partial, target).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return join(target, "chromium");
}
