import { build, stop } from "esbuild";
import { join, relative, resolve } from "node:path";
import { BUILD_DIR, ROOT, bundleNodeEntry } from "./node-bundle.mjs";

export { BUILD_DIR };

function insideProject(outDir: string): string {
  const inside = relative(ROOT, resolve(outDir));
  if (inside.startsWith("..") || resolve(inside) === inside) {
    throw new RangeError(`bundles must be written inside the project (${ROOT}), where their external packages resolve, not ${outDir}`);
  }
  return resolve(outDir);
}

/**
 * Bundles the node-client CLI into one ES module. A device started from it reads one file instead
 * of compiling TypeScript and resolving several hundred modules, which on a small machine is most
 * of a device's start-up.
 */
export async function buildDeviceBundle(outDir = BUILD_DIR): Promise<string> {
  return bundleNodeEntry("node-client/src/cli.ts", join(insideProject(outDir), "device"), { minify: true });
}

/**
 * Bundles the control plane's Worker as `wrangler deploy` would (one ES module; workerd provides
 * `node:*` and `cloudflare:*`), for `wrangler dev --no-bundle`: wrangler then runs it as is and
 * does not keep a polling esbuild watcher over the sources, which costs a fifth of a core here.
 */
export async function buildWorkerBundle(outDir = BUILD_DIR): Promise<string> {
  const outfile = join(insideProject(outDir), "worker/index.mjs");
  await build({
    entryPoints: [join(ROOT, "control/src/index.ts")],
    outfile,
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    // As wrangler resolves for Workers: the "browser" field maps Node-only imports (tfjs-core's node-fetch, util) away.
    mainFields: ["browser", "module", "main"],
    external: ["node:*", "cloudflare:*"],
    // tfjs-core's Node platform (never chosen in workerd) requires "util" by its bare name; workerd has it as node:util.
    alias: { util: "node:util" },
    legalComments: "none",
    logLevel: "warning",
  });
  return outfile;
}

/** Ends esbuild's helper process once the bundles are built; it would otherwise idle alongside the job. */
export const stopBundler = (): Promise<void> => stop();
