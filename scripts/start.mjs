// `npm start`: bundles scripts/start.ts with esbuild (a second or two) and runs it. One bundled
// module loads far faster than a TypeScript loader compiling and resolving several hundred files.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BUILD_DIR, bundleNodeEntry } from "./lib/node-bundle.mjs";

const bundle = await bundleNodeEntry("scripts/start.ts", join(BUILD_DIR, "start"));
await import(pathToFileURL(bundle).href);
