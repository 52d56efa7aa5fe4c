import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Plugin } from "vite";
import { encodeDigits, loadDigits } from "../../edge-runtime/src/demo/mnist.js";

/**
 * Files the page serves from its own origin, never from a CDN: the tfjs wasm binaries (the
 * single-threaded builds: wasm threads stay off) and the demo's MNIST digits, encoded compactly
 * from the `mnist` package at build time. Emitted into the build, and served by Vite in development.
 */
const require = createRequire(import.meta.url);
const ROOT = join(dirname(require.resolve("../../package.json")));
const CACHE = join(ROOT, "node_modules/.cache/propius/web/mnist-digits-v1.bin");
const WASM_FILES = ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"];

async function digitsFile(): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(CACHE));
  } catch {
    const bytes = encodeDigits(await loadDigits());
    await mkdir(dirname(CACHE), { recursive: true });
    await writeFile(`${CACHE}.${process.pid}.tmp`, bytes);
    await rename(`${CACHE}.${process.pid}.tmp`, CACHE);
    return bytes;
  }
}

function wasmFile(name: string): Promise<Buffer> {
  return readFile(join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), name));
}

/** The page's own assets by URL path (under the base), loaded on demand. */
const assets: Record<string, () => Promise<Uint8Array>> = {
  "data/mnist-digits-v1.bin": digitsFile,
  ...Object.fromEntries(WASM_FILES.map((name) => [`tfjs/${name}`, () => wasmFile(name)])),
};

export function pageAssets(): Plugin {
  return {
    name: "propius-page-assets",
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split("?")[0].replace(/^\//, "") ?? "";
        const load = assets[path];
        if (!load) return next();
        load().then(
          (bytes) => {
            response.setHeader("content-type", path.endsWith(".wasm") ? "application/wasm" : "application/octet-stream");
            response.end(bytes);
          },
          (error: unknown) => next(error),
        );
      });
    },
    async generateBundle() {
      for (const [fileName, load] of Object.entries(assets)) this.emitFile({ type: "asset", fileName, source: await load() });
    },
  };
}
