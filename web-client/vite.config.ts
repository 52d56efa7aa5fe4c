import { defineConfig } from "vite";

export default defineConfig({
  root: __dirname,
  build: { outDir: "../dist/web-client", emptyOutDir: true },
  server: { proxy: { "/v1": "http://127.0.0.1:8787" } },
});
