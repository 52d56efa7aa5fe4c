// `node scripts/run.mjs <script.ts> [args]`: bundles a TypeScript script with esbuild, as `npm start`
// does, and runs it with the remaining arguments.
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
