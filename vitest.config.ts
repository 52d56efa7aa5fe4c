import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { ensurePageFolder } from "./scripts/lib/page-placeholder.ts";

// wrangler.toml serves the built contribute page from dist/web-client; wrangler refuses a config
// whose assets folder is missing, and the workers tests need no page in it (the stand-in page
// goes there when it was never built; the browser tests build the real one).
await ensurePageFolder(fileURLToPath(new URL("./dist/web-client", import.meta.url)));

/**
 * One config, a project per runtime:
 *  - node:        pure modules and clients (`*.test.ts`)
 *  - workers:     the control plane inside real workerd (`*.workers.test.ts`)
 *  - integration: the real control plane under `wrangler dev` with real Node clients (`test/integration`)
 *  - browser:     the built contribute page in headless Chromium, beside Node clients (`test/browser`)
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          // Projects run one after another: on a 2-core machine, tfjs training, workerd and
          // wrangler dev running side by side slow each other down far more than they gain.
          sequence: { groupOrder: 0 },
          include: ["{shared,edge-runtime,control,node-client,web-client}/src/**/*.test.ts", "scripts/lib/**/*.test.ts"],
          exclude: ["**/*.workers.test.ts", "**/node_modules/**"],
          // A file takes seconds on a quiet machine; shared CI machines have been 30x slower.
          testTimeout: 180_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // Tests create a job and check in at once: shards read the job list afresh every time.
              // Shards report their metrics when a test fires their alarm, not by themselves mid-test.
              // An upload that stops sending is ended after 4 s rather than 30.
              bindings: { PROPIUS_ADMIN_KEY: "test-admin-key", PROPIUS_TOKEN_SECRET: "test-token-secret", MAX_UPLOAD_BYTES: "2000000", SCHEDULER_VIEW_TTL_MS: "0", METRICS_FLUSH_MS: "600000", UPLOAD_IDLE_MS: "4000" },
            },
          }),
        ],
        test: {
          name: "workers",
          sequence: { groupOrder: 1 },
          include: ["control/src/**/*.workers.test.ts"],
          // Shared CI machines stall for seconds at a time; a request is fast when they do not.
          testTimeout: 120_000,
          // Pre-bundle dependencies: workerd imports each module through Vite, one request per file
          // (tfjs unbundled is hundreds of files: about 20 s to import, under a second bundled). The
          // root zod is the one shared and control use (the pool package keeps its own older copy).
          deps: {
            optimizer: {
              ssr: { enabled: true, include: ["hono", "hono/http-exception", "zod", "@tensorflow/tfjs-core", "@tensorflow/tfjs-backend-cpu", "@tensorflow/tfjs-layers"] },
            },
          },
        },
      },
      {
        test: {
          name: "integration",
          sequence: { groupOrder: 2 },
          include: ["test/integration/**/*.test.ts"],
          fileParallelism: false,
          // Generous: a cold `wrangler dev` on a busy 2-core CI machine has taken over two minutes to answer.
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
      {
        test: {
          name: "browser",
          sequence: { groupOrder: 3 },
          include: ["test/browser/**/*.test.ts"],
          // CHROMIUM_PATH, else a system Chromium, else the npm-shipped one, unpacked once here.
          globalSetup: ["test/browser/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
