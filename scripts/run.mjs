// `node scripts/run.mjs <script.ts> [args]`: bundles a TypeScript script with esbuild (a second or
// two) and runs it with the remaining arguments: `npm start`, the simulator and the benchmarks. One
// bundled module loads far faster than a TypeScript loader compiling several hundred files, and this
// file is plain JavaScript because it runs before anything can load TypeScript.
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, bundleNodeEntry } from "./lib/node-bundle.mjs";

const [entry] = process.argv.splice(2, 1);
if (!entry?.endsWith(".ts")) {
  process.stderr.write("usage: node scripts/run.mjs <script.ts> [args]\n");
  process.exit(2);
}
const bundle = await bundleNodeEntry(entry, join(BUILD_DIR, basename(entry, ".ts")));
await import(pathToFileURL(bundle).href);
