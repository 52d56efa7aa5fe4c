import { createServer, type Server } from "node:http";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTab, type Tab } from "../../scripts/lib/chromium.js";

/** The in-process round, bundled for the page as a global, from the same sources the devices run. */
async function roundBundle(): Promise<string> {
  const entry = fileURLToPath(new URL("../../shared/src/secagg/test-round.ts", import.meta.url));
  const out = await build({ entryPoints: [entry], bundle: true, write: false, format: "iife", globalName: "secagg", platform: "browser", target: "es2022" });
  return out.outputFiles[0].text;
}

describe("secure aggregation in a browser tab", () => {
  let tab: Tab;
  let server: Server;

  beforeAll(async () => {
    // A page from loopback is a secure context, so WebCrypto's subtle API is there as on an https page.
    server = createServer((_, response) => response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>secagg</title>"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as { port: number };
    tab = await openTab(`http://127.0.0.1:${port}/`, { webgpu: false });
    await tab.page.addScriptTag({ content: await roundBundle() });
  });
  afterAll(async () => {
    await tab?.close();
    server?.close();
  });

  it("runs a round with a dropout on Chromium's WebCrypto (ECDH P-256, HKDF, AES-CTR, AES-GCM) and gives exactly the quantized sum", async () => {
    const result = await tab.page.evaluate(async () => {
      const { secAggRound } = (globalThis as unknown as { secagg: typeof import("../../shared/src/secagg/test-round.js") }).secagg;
      const inputs = Array.from({ length: 6 }, (_, u) => Float32Array.from({ length: 2048 }, (_, i) => Math.cos(u * 2048 + i) * 0.7));
      const { sum, plain, senders } = await secAggRound({ inputs, threshold: 4, dropped: [5], format: { range: 1, maxInputs: 32 }, context: "job_tab/1/0" });
      return { senders, equal: sum.every((v, i) => v === plain[i]), length: sum.length, hasSubtle: typeof crypto.subtle?.deriveBits === "function" };
    });
    expect(tab.errors).toEqual([]);
    expect(result).toEqual({ senders: [1, 2, 3, 4, 6], equal: true, length: 2048, hasSubtle: true });
  });
});
