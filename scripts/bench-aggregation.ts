// `npm run bench:aggregation`: aggregation throughput into one job of the real control plane under
// `wrangler dev` (loopback), against model size and aggregator shard count, with an in-process
// Float32Array weighted sum of the same deltas in the same run as the ceiling, and workerd's memory.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DeviceClient, OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import { WeightedSum, encodeWeights, type JobSpecInput, type Task } from "@propius/shared";
import { READ_AHEAD_BYTES } from "../control/src/aggregation/body-read-ahead.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { cpuMs, memoryKb, workerdPids, workerdRoles } from "./lib/workerd-process.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:aggregation -- [options]

  --sizes <n,n,...>     model sizes in parameters (default 100000,1000000,10000000)
  --shards <n,n,...>    aggregator shards per job (default 1,4)
  --updates <n>         devices, each sending one update; the round closes at the last (default 50)
  --concurrency <n>     uploads in flight (default 4)
  --out <path>          results: <path>.md and <path>.json (default docs/aggregation-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    sizes: { type: "string", default: "100000,1000000,10000000" }, shards: { type: "string", default: "1,4" }, updates: { type: "string", default: "50" },
    concurrency: { type: "string", default: "4" }, out: { type: "string", default: join(ROOT, "docs/aggregation-benchmark") },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const sizes = args.sizes.split(",").map(Number);
const shardCounts = args.shards.split(",").map(Number);
const updates = Number(args.updates);
const concurrency = Number(args.concurrency);
if (shardCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
  process.stderr.write(`bench:aggregation: --shards takes integers from 1 to 64\n\n${HELP}`);
  process.exit(2);
}
if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(updates) || updates < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`bench:aggregation: --sizes, --updates and --concurrency take positive integers\n\n${HELP}`);
  process.exit(2);
}

// The machine may be shared: its load when the run began goes with the figures.
const loadAtStart = loadavg().map((l) => round(l, 2));
const script = await buildWorkerBundle();
await stopBundler();
const ADMIN_KEY = "bench-admin-key";
let networkRetries = 0;
const countingFetch = (input: string, init?: RequestInit) =>
  fetch(input, init).catch((error: unknown) => {
    networkRetries += 1;
    throw error;
  });
/** Bodies sent by the transport ceiling's run. */
const TRANSPORT_BODIES = 20;
const mb = (bytes: number) => bytes / 2 ** 20;
const rows: Record<string, number | null>[] = [];

for (const size of sizes) for (const shards of shardCounts) {
  const dir = await mkdtemp(join(tmpdir(), "propius-agg-"));
  const plane = await startControlPlane({
    port: await freePort(), script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"),
    vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "bench-token-secret", MAX_UPLOAD_BYTES: String(size * 4 + (1 << 20)) },
  });
  try {
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "bench" });
    const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
    const spec: JobSpecInput = {
      name: `aggregate-${size}`, model: linearModel(size / 10, 10),
      plan: { rounds: 2, clientsPerRound: updates, overCommit: 1, roundDeadlineSeconds: 3_600, localSteps: 1, aggregatorShards: shards },
    };
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(size));
    const devices = await Promise.all(Array.from({ length: updates }, async () => {
      // As a real device does, retry an upload that fails at the network level (its ticket counts once); count them.
      const device = new DeviceClient({ baseUrl: plane.url, fetch: countingFetch });
      await device.register({});
      return device;
    }));
    const tasks: Task[] = [];
    for (const device of devices) {
      const reply = await device.checkIn({});
      if (reply.status !== "task" || reply.task.jobId !== job.id) throw new Error(`expected a task of ${job.id}, got ${JSON.stringify(reply).slice(0, 200)}`);
      tasks.push(reply.task);
    }
    // Synthetic deltas: distinct values per device, so that the sum is real work.
    const deltas = devices.map((_, i) => new Float32Array(size).fill((i + 1) / 1000));
    // wrangler runs two workerd processes, a proxy and the one that runs the Worker and its objects.
    const workerds = workerdPids(plane.process.pid!);
    const startKb = new Map(workerds.map((pid) => [pid, memoryKb(pid, "VmRSS")]));
    const roles = workerdRoles(plane.process.pid!, Number(new URL(plane.url).port));
    const transportCpu = { proxy: cpuMs(roles.proxy), worker: cpuMs(roles.worker) };
    const transport = await transportCeiling(plane.url, apiKey, job.id, encodedSize(tasks[0], size), concurrency);
    const transportProxyMs = (cpuMs(roles.proxy) - transportCpu.proxy) / TRANSPORT_BODIES;
    const transportWorkerMs = (cpuMs(roles.worker) - transportCpu.worker) / TRANSPORT_BODIES;
    const cpuStart = cpuMs(workerds);
    const uploadCpu = { proxy: cpuMs(roles.proxy), worker: cpuMs(roles.worker) };
    process.stdout.write(`${size.toLocaleString("en")} parameters, ${shards} shard${shards > 1 ? "s" : ""}: ${updates} updates of ${mb(size * 4).toFixed(1)} MB ...`);

    networkRetries = 0;
    const started = performance.now();
    let next = 0;
    let bytes = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < updates; i = next++) {
        try {
          const receipt = await devices[i].uploadUpdate(tasks[i], deltas[i], { examples: 10 + i });
          bytes += receipt.bytes;
        } catch (error) {
          throw new Error(`update ${i + 1} of ${updates} failed after ${((performance.now() - started) / 1000).toFixed(1)} s: ${(error as Error).message}`, { cause: error });
        }
      }
    }));
    const uploadSeconds = (performance.now() - started) / 1000;
    const cpuPerUpload = (cpuMs(workerds) - cpuStart) / updates;
    const proxyMsPerUpload = (cpuMs(roles.proxy) - uploadCpu.proxy) / updates;
    const workerMsPerUpload = (cpuMs(roles.worker) - uploadCpu.worker) / updates;
    const groups = await sumWrites(plane.url, job.id);
    let status = await owner.status(job.id);
    while (status.rounds[0].status !== "closed") {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await owner.status(job.id);
    }
    const roundSeconds = (performance.now() - started) / 1000;
    // The process that grew most is the one holding the objects.
    const grown = workerds
      .map((pid) => ({ peak: memoryKb(pid, "VmHWM"), start: startKb.get(pid) ?? null }))
      .filter((m): m is { peak: number; start: number } => m.peak !== null && m.start !== null)
      .sort((a, b) => b.peak - b.start - (a.peak - a.start))[0];
    const peakKb = grown?.peak ?? null;

    const ceilingStart = performance.now();
    const sum = new WeightedSum(size);
    deltas.forEach((delta, i) => sum.add(delta, 10 + i));
    const ceilingSeconds = (performance.now() - ceilingStart) / 1000;

    const row = {
      parameters: size,
      shards,
      updates,
      updateMB: round(mb(size * 4), 2),
      updatesPerSecond: round(updates / uploadSeconds, 2),
      megabytesPerSecond: round(mb(bytes) / uploadSeconds, 1),
      roundSeconds: round(roundSeconds, 1),
      ceilingUpdatesPerSecond: round(updates / ceilingSeconds, 1),
      ceilingMegabytesPerSecond: round(mb(size * 4 * updates) / ceilingSeconds, 1),
      ratio: round(mb(bytes) / uploadSeconds / (mb(size * 4 * updates) / ceilingSeconds), 3),
      transportMegabytesPerSecond: round(transport, 1),
      workerdCpuMsPerUpload: round(cpuPerUpload, 1),
      proxyCpuMsPerUpload: round(proxyMsPerUpload, 1),
      runtimeCpuMsPerUpload: round(workerMsPerUpload, 1),
      transportProxyCpuMsPerBody: round(transportProxyMs, 1),
      transportRuntimeCpuMsPerBody: round(transportWorkerMs, 1),
      groups,
      workerdPeakMB: peakKb === null ? null : round(peakKb / 1024, 0),
      workerdGrowthMB: grown ? round((grown.peak - grown.start) / 1024, 0) : null,
      liveBoundMB: round(mb(liveBound(size * 4, shards, concurrency)), 0),
      networkRetries,
    };
    rows.push(row);
    console.log(` ${row.updatesPerSecond} updates/s, ${row.megabytesPerSecond} MB/s (in-process sum: ${row.ceilingMegabytesPerSecond} MB/s, ratio ${row.ratio}; the same bytes into a job object that only reads them: ${row.transportMegabytesPerSecond} MB/s); workerd CPU ${row.workerdCpuMsPerUpload} ms per upload (proxy ${row.proxyCpuMsPerUpload}, runtime ${row.runtimeCpuMsPerUpload}; transport run per body: proxy ${row.transportProxyCpuMsPerBody}, runtime ${row.transportRuntimeCpuMsPerBody}); ${groups} groups; round closed after ${row.roundSeconds} s; workerd peak ${row.workerdPeakMB ?? "?"} MB (+${row.workerdGrowthMB ?? "?"} MB over the run; live data by the code at most ${row.liveBoundMB} MB); uploads retried after a network error: ${networkRetries}`);
  } catch (error) {
    // The control plane's own account of a failure is in its log, which goes with the folder below.
    const log = readFileSync(join(dir, "wrangler.log"), "utf8").trim().split("\n").slice(-20).join("\n");
    process.stderr.write(`\nwrangler dev's log (last lines):\n${log}\n`);
    throw error;
  } finally {
    await plane.stop("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

const machine = machineLine();
await writeFile(`${args.out}.json`, `${JSON.stringify({ date: new Date().toISOString(), machine, loadAtStart, concurrency, rows }, null, 2)}\n`);
await writeFile(`${args.out}.md`, [
  "# Aggregation benchmark: one job, sharded aggregators, under `wrangler dev`",
  "",
  `Measured by \`npm run bench:aggregation\` on ${new Date().toISOString().slice(0, 10)}: ${machine}; client and workerd on one machine, loopback; load average ${loadAtStart.join(", ")} (1, 5, 15 min) when the run began.`,
  `Each run: a fresh control plane, one job whose round closes at the last of ${updates} updates (fp32 deltas of the whole model, ${concurrency} uploads in flight).`,
  "An upload is one object call: the Worker hands the body, unread, to the device's aggregator shard (named in the job-signed ticket), which checks the ticket by itself, reads the body whole while it folds others, in native reads of 64 KiB or more, each within the upload idle time (bodies up to its 16 MiB read-ahead budget; larger ones 1 MiB at a time in its turn), and adds the delta where it lies to its partial sum, checking every result finite in the same pass; uploads that arrive together are written with one write of the sum and counted by one call to the job, durable before they are acknowledged. At the last, the job seals the shards, combines their sums as they stream in, applies FedAvg and stores the next model.",
  "The ratio is the upload MB/s over the in-process sum's (target: at least 0.3 at 1M parameters). The transport column is a ceiling of another kind, measured just before the uploads in the same run: the same number of bytes, as many in flight, PUT to the job's model route, which reads the body into the job's object and refuses it (`model_already_set`): the cost of getting the bytes into an object under `wrangler dev` (its proxy and workerd), with no decoding, summing or writing. workerd CPU is the user + system time of both workerd processes during the uploads, from /proc, per upload, and split: the proxy, and the runtime that runs the Worker and the objects (the transport run's runtime CPU per body beside it). Groups are the shards' writes of their sums (the job's \`commitFolds\` calls) for the run's uploads.",
  "The in-process ceiling is the same weighted sum over the same deltas in this Node process. workerd's peak is the peak resident memory of the workerd process that runs the Worker (wrangler also runs a proxy workerd), all objects together: locally every object lives in that one process. Growth is that peak less its resident memory when the uploads began.",
  "The live-data bound counts, from the code, what the objects hold at once with N bytes per model: a shard that has folded 2N (its sum and its scratch buffer, which takes the next sum), plus the bodies read ahead (at most the uploads in flight, within each shard's 16 MiB budget; a larger body is read into the scratch buffer), and the job at close N (the combined sum, computed over into the next model as the base model streams in from R2): S x 2N + the larger of the bodies read ahead, while updates are folded, and N, at close. Growth above it is garbage not yet collected (every upload's body is a fresh buffer) and the runtime's own buffers.",
  "",
  "Uploads that fail at the network level are retried, as devices do (their tickets count once); the last column counts those retries.",
  "",
  "| parameters | shards | MB per update | updates/s | MB/s | in-process sum MB/s | ratio | transport MB/s | workerd CPU ms/upload | of which runtime | transport runtime CPU ms/body | groups | round closed after (s) | workerd peak RSS (MB) | growth (MB) | live-data bound (MB) | network retries |",
  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${(r.parameters ?? 0).toLocaleString("en")} | ${r.shards} | ${r.updateMB} | ${r.updatesPerSecond} | ${r.megabytesPerSecond} | ${r.ceilingMegabytesPerSecond} | ${r.ratio} | ${r.transportMegabytesPerSecond} | ${r.workerdCpuMsPerUpload} | ${r.runtimeCpuMsPerUpload} | ${r.transportRuntimeCpuMsPerBody} | ${r.groups ?? "-"} | ${r.roundSeconds} | ${r.workerdPeakMB ?? "-"} | ${r.workerdGrowthMB ?? "-"} | ${r.liveBoundMB} | ${r.networkRetries} |`),
  "",
].join("\n"));
console.log(`wrote ${args.out}.md and ${args.out}.json`);

/** What the objects hold at once, in bytes, by the code (see docs/design.md, "Sharded aggregation"), for models of `model` bytes. */
function liveBound(model: number, shards: number, inFlight: number): number {
  // Each shard its sum and scratch buffer; the bodies in flight read ahead, as many as the shards' budgets take.
  const readAhead = model > READ_AHEAD_BYTES ? 0 : Math.min(inFlight, shards * Math.floor(READ_AHEAD_BYTES / model)) * model;
  return shards * 2 * model + Math.max(readAhead, model);
}

/** The bytes of one update as a device encodes it (fp32 delta of `size` values with its header). */
function encodedSize(task: Task, size: number): number {
  return encodeWeights({ kind: "delta", codec: "fp32", tensors: task.model.weightSpecs, meta: { examples: 10 } }, new Float32Array(size)).length;
}

/**
 * MB/s of bodies of `bytes` PUT to the job's model route (`concurrency` in flight, 20 bodies), which
 * reads each into the job's object and refuses it: the cost of bringing the bytes into an object.
 */
async function transportCeiling(url: string, apiKey: string, jobId: string, bytes: number, concurrency: number): Promise<number> {
  const body = new Uint8Array(bytes);
  const count = TRANSPORT_BODIES;
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < count; i = next++) {
      const response = await fetch(`${url}/v1/jobs/${jobId}/model`, { method: "PUT", headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/octet-stream" }, body });
      const answer = (await response.json()) as { error?: { code: string } };
      if (answer.error?.code !== "model_already_set") throw new Error(`the transport ceiling expected model_already_set, got ${JSON.stringify(answer).slice(0, 200)}`);
    }
  }));
  return mb(bytes * count) / ((performance.now() - started) / 1000);
}

/** Writes of the sum by the job's shards: one per group (the job counts each group in one call). */
async function sumWrites(url: string, jobId: string): Promise<number | null> {
  const response = await fetch(`${url}/v1/admin/counters?job=${jobId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const counters = (await response.json()) as { calls?: Record<string, number> };
  return counters.calls?.["JobObject.commitFolds"] ?? null;
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
