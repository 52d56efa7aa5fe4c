// `npm run bench:contribution`: workerd CPU, object calls and SQL writes per contribution (one device's
// check-in until bound, model download and upload of a 55k-parameter fp32 delta, and its share of the
// round close) against the real control plane under `wrangler dev`, for devices that check in over
// HTTP and devices that hold a push connection, side by side; in the same run, the CPU of the trivial
// route (and of a keep-alive frame) times the requests (and frames) a contribution makes, as the ceiling.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "../control/src/simulator/random.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { TRANSPORTS, type ContributionResult, type Transport } from "./lib/contribution-figures.js";
import { measureConnections, measureReferences } from "./lib/contribution-references.js";
import { contributionReport } from "./lib/contribution-report.js";
import { TransportBench } from "./lib/contribution-transport.js";
import { ROOT } from "./lib/local-control-plane.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:contribution -- [options]

  --transport <list>  http, push or both, comma-separated (default http,push: side by side, rounds alternating)
  --parameters <n>    model size, a multiple of 10 (default 55510: the CNN of docs/design.md)
  --devices <n>       devices per transport, all in every round (default 20)
  --rounds <n>        measured rounds, after one warm-up round (default 10)
  --concurrency <n>   requests in flight (default 4)
  --spread-ms <n>     device i waits n x i / devices ms before its upload, as training times that differ (default 0)
  --shards <n>        aggregator shards of the job (default 1)
  --out <path>        results: <path>.md and <path>.json (default docs/contribution-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    transport: { type: "string", default: TRANSPORTS.join(",") },
    parameters: { type: "string", default: "55510" }, devices: { type: "string", default: "20" }, rounds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "4" }, "spread-ms": { type: "string", default: "0" }, shards: { type: "string", default: "1" }, out: { type: "string", default: join(ROOT, "docs/contribution-benchmark") },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [parameters, devices, rounds, concurrency, shards] = [args.parameters, args.devices, args.rounds, args.concurrency, args.shards].map(Number);
const spreadMs = Number(args["spread-ms"]);
const transports = [...new Set(args.transport.split(",").map((t) => t.trim()))] as Transport[];
if (![parameters, devices, rounds, concurrency, shards].every((n) => Number.isInteger(n) && n >= 1) || parameters % 10 !== 0 || !transports.every((t) => TRANSPORTS.includes(t)) || !(Number.isInteger(spreadMs) && spreadMs >= 0)) {
  process.stderr.write(`bench:contribution: options take positive integers, --parameters a multiple of 10, --transport http and/or push\n\n${HELP}`);
  process.exit(2);
}

/** How long the job has to close a round after its last upload (a 55k-parameter close takes milliseconds). */
const CLOSE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-contrib-"));
const random = seededRandom(7);
const deltas = Array.from({ length: devices }, () => Float32Array.from({ length: parameters }, () => (random() - 0.5) / 100));
const options = { script, dir, adminKey: "bench-admin-key", parameters, devices, rounds, concurrency, shards, deltas, closeMs: CLOSE_MS, spreadMs };
const benches: TransportBench[] = [];

try {
  // One after another: each takes a free port, and a start takes the machine's two cores.
  for (const transport of transports) benches.push(await TransportBench.start({ ...options, transport }));
  // One transport at a time, the other plane idle: each plane's own references.
  const references = new Map<Transport, Awaited<ReturnType<typeof measureReferences>>>();
  for (const bench of benches) references.set(bench.transport, await measureReferences(bench));
  // What workerd spends doing nothing: the close waits and the devices' waits are idle stretches of the window.
  const idleStart = benches.map((b) => b.cpu());
  await sleep(3_000);
  const idle = benches.map((b, i) => ({ worker: (b.cpu().worker - idleStart[i].worker) / 3, proxy: (b.cpu().proxy - idleStart[i].proxy) / 3 }));
  const connections = new Map(await Promise.all(benches.filter((b) => b.transport === "push").map(async (b) => [b.transport, await measureConnections(b)] as const)));

  process.stdout.write(`${transports.join(" and ")}, ${devices} devices each, ${parameters.toLocaleString("en")} parameters, ${shards} shard(s): warm-up round ...`);
  for (const bench of benches) await bench.round(1, false);
  const before = await Promise.all(benches.map((b) => b.counters()));
  for (const bench of benches) bench.startMeasuring();
  const start = performance.now();
  for (let r = 2; r < rounds + 2; r++) {
    process.stdout.write(` ${r - 1}`);
    for (const bench of benches) await bench.round(r, true);
  }
  const seconds = (performance.now() - start) / 1000;
  const after = await Promise.all(benches.map((b) => b.counters()));
  console.log(` done in ${seconds.toFixed(1)} s`);

  const results: ContributionResult[] = [];
  for (const [i, bench] of benches.entries()) {
    const status = await bench.owner.status(bench.jobId);
    if (!status.rounds.some((x) => x.round === rounds + 1 && x.status === "closed")) throw new Error(`${bench.transport}: the last measured round had not closed ${CLOSE_MS} ms after its last upload`);
    if (after[i].objects.some((o, k) => o.instance !== before[i].objects[k]?.instance)) throw new Error(`${bench.transport}: an object restarted during the measured rounds: its counters began again`);
    if (bench.transport === "push" && bench.requests.checkIns > 0) throw new Error(`push: ${bench.requests.checkIns} check-ins went over HTTP (a connection dropped)`);
    results.push({
      transport: bench.transport, devices, rounds, seconds, phases: bench.phases, requests: { ...bench.requests }, frames: { ...bench.frames }, bindings: { ...bench.bindings, waits: { ...bench.bindings.waits } },
      references: references.get(bench.transport)!, connections: connections.get(bench.transport) ?? null, idleMsPerSecond: idle[i], before: before[i], after: after[i],
    });
  }
  const report = contributionReport({
    date: new Date().toISOString(),
    machine: machineLine(),
    loadavg: readFileSync("/proc/loadavg", "utf8").trim(),
    parameters, devices, rounds, concurrency, shards, spreadMs, seconds, results,
  });
  for (const line of report.summary) console.log(line);
  await writeFile(`${args.out}.json`, `${JSON.stringify(report.json, null, 2)}\n`);
  await writeFile(`${args.out}.md`, report.markdown);
  console.log(`wrote ${args.out}.md and ${args.out}.json`);
} catch (error) {
  for (const bench of benches) {
    const log = readFileSync(bench.plane.logFile, "utf8").trim().split("\n").slice(-20).join("\n");
    process.stderr.write(`\n${bench.transport}: wrangler dev's log (last lines):\n${log}\n`);
  }
  throw error;
} finally {
  await Promise.allSettled(benches.map((b) => b.stop()));
  await rm(dir, { recursive: true, force: true });
}
