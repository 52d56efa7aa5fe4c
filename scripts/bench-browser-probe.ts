/**
 * `npm run bench:browser-probe`: the contribute page's backend probe in headless Chromium, with and
 * without WebGPU, several launches each; writes docs/browser-probe.md and .json. The figures are
 * what the page itself measures in its training worker (the demo's 784-128-10 MLP, batch 32).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openTab, readPage } from "./lib/chromium.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { freePort } from "./lib/ports.js";
import { ensureWebPage } from "./lib/web-page.js";
import { median } from "./lib/stats.js";

const { values: flags } = parseArgs({ options: { runs: { type: "string", default: "5" } } });
const runs = Number(flags.runs);
const say = (line: string) => process.stdout.write(`${line}\n`);

await ensureWebPage({ log: say });
const dir = await mkdtemp(join(tmpdir(), "propius-probe-"));
const plane = await startControlPlane({ port: await freePort(), script: await buildWorkerBundle(), persistTo: join(dir, "state"), vars: { PROPIUS_ADMIN_KEY: "bench", PROPIUS_TOKEN_SECRET: "bench" } });
await stopBundler();
const results: Record<string, { chosen: string[]; samplesPerSecond: Record<string, number[]>; failures: Record<string, string> }> = {};
try {
  for (const webgpu of [true, false]) {
    const label = webgpu ? "with --enable-unsafe-webgpu" : "without WebGPU";
    const result = (results[label] = { chosen: [] as string[], samplesPerSecond: {} as Record<string, number[]>, failures: {} as Record<string, string> });
    for (let run = 0; run < runs; run++) {
      const tab = await openTab(`${plane.url}/`, { webgpu });
      try {
        await tab.page.waitForFunction(() => ["ready", "failed"].includes(document.body.dataset.state ?? ""), null, { timeout: 180_000 });
        const page = await readPage(tab.page);
        if (page.state !== "ready") throw new Error(`the page failed: ${page.status}`);
        result.chosen.push(page.backend);
        for (const [name, probe, speed] of page.probes) {
          if (probe.startsWith("ok")) (result.samplesPerSecond[name] ??= []).push(Number(speed));
          else result.failures[name] = probe;
        }
        say(`${label}, run ${run + 1}: chose ${page.backend}; ${page.probes.map(([n, , s]) => `${n} ${s}`).join(", ")}`);
      } finally {
        await tab.close();
      }
    }
  }
} finally {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}

const lines = [
  "# Backend probe in the browser",
  "",
  `Measured by \`npm run bench:browser-probe\` on ${new Date().toISOString().slice(0, 10)}: the contribute page's own probe in its`,
  `training worker (headless Chromium, software rendering: \`--disable-gpu\`), ${runs} launches each, median samples/s`,
  "of the demo's 784-128-10 MLP at batch 32 (8 timed steps after one warm-up step), lowest and highest in brackets.",
  "",
  "| launch | webgpu | webgl | wasm | cpu | chosen |",
  "| --- | ---: | ---: | ---: | ---: | --- |",
  ...Object.entries(results).map(([label, r]) => {
    const cell = (name: string) => {
      const values = r.samplesPerSecond[name];
      return values ? `${median(values)} (${Math.min(...values)}-${Math.max(...values)})` : "fails";
    };
    return `| ${label} | ${cell("webgpu")} | ${cell("webgl")} | ${cell("wasm")} | ${cell("cpu")} | ${[...new Set(r.chosen)].join(", ")} |`;
  }),
  "",
  ...Object.entries(results).flatMap(([label, r]) => Object.entries(r.failures).map(([name, why]) => `${label}, ${name}: ${why}`)),
  "",
];
await writeFile(join(ROOT, "docs/browser-probe.md"), lines.join("\n"));
await writeFile(join(ROOT, "docs/browser-probe.json"), `${JSON.stringify(results, null, 2)}\n`);
say(lines.join("\n"));
