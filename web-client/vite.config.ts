import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import { pageAssets } from "./build/page-assets.js";

/** The control plane Vite's dev server forwards /v1 to (`npm start` runs one on 8787). */
const CONTROL_PLANE = process.env.PROPIUS_CONTROL_URL ?? "http://127.0.0.1:8787";

/** Cross-origin isolation, as the built page gets it from public/_headers. */
const ISOLATION = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

const page = (name: string) => fileURLToPath(new URL(name, import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [pageAssets()],
  resolve: {
    // The digits reach the page as a static asset (see build/page-assets.ts); the 21 MB package stays out of the bundle.
    alias: { mnist: fileURLToPath(new URL("src/worker/no-mnist-package.ts", import.meta.url)) },
  },
  worker: { format: "es" },
  build: {
    outDir: "../dist/web-client", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 4096,
    // Two pages, one deployment: the contribute page at / and the owner dashboard at /dashboard.
    rollupOptions: { input: { main: page("index.html"), dashboard: page("dashboard.html") } },
  },
  // ws: the devices' push connection and the dashboard's job events are WebSockets under /v1.
  server: { headers: ISOLATION, proxy: { "/v1": { target: CONTROL_PLANE, ws: true } } },
  preview: { headers: ISOLATION },
});
