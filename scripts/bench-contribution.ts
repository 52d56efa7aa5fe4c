// `npm run bench:contribution`: workerd CPU, object calls and SQL writes per contribution (one device's
// check-ins until bound, model download and upload of a 55k-parameter fp32 delta, and its share of the
// round close) against the real control plane under `wrangler dev`; in the same run, the CPU per
// request of the trivial route times the requests a contribution makes, as the ceiling.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DeviceClient, OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobSpecInput } from "@propius/shared";
import type { CountersTotal } from "../control/src/diagnostics/counters-total.js";
import { seededRandom } from "../control/src/simulator/random.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { PHASES, devicesFetch, runRound, type Phase } from "./lib/contribution-rounds.js";
import { TRIVIAL, contributionReport, type ContributionResult, type ReferenceRequest } from "./lib/contribution-report.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { cpuMs, workerdRoles } from "./lib/workerd-process.js";

const HELP = `npm run bench:contribution -- [options]

  --parameters <n>    model size, a multiple of 10 (default 55510: the CNN of docs/design.md)
  --devices <n>       devices, all in every round (default 20)
  --rounds <n>        measured rounds, after one warm-up round (default 10)
  --concurrency <n>   requests in flight (default 4)
  --shards <n>        aggregator shards of the job (default 1)
  --out <path>        results: <path>.md and <path>.json (default docs/contribution-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    parameters: { type: "string", default: "55510" }, devices: { type: "string", default: "20" }, rounds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "4" }, shards: { type: "string", default: "1" }, out: { type: "string", default: join(ROOT, "docs/contribution-benchmark") },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [parameters, devices, rounds, concurrency, shards] = [args.parameters, args.devices, args.rounds, args.concurrency, args.shards].map(Number);
if (![parameters, devices, rounds, concurrency, shards].every((n) => Number.isInteger(n) && n >= 1) || parameters % 10 !== 0) {
  process.stderr.write(`bench:contribution: options take positive integers, --parameters a multiple of 10\n\n${HELP}`);
  process.exit(2);
}

/** How long the job has to close a round after its last upload (a 55k-parameter close takes milliseconds). */
const CLOSE_MS = 300;
const TRIVIAL_REQUESTS = 1_000;
const ADMIN_KEY = "bench-admin-key";
const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-contrib-"));
const port = await freePort();
const plane = await startControlPlane({
  port, script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"),
  vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "bench-token-secret" },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const counters = async (jobId: string): Promise<CountersTotal> => {
  const response = await fetch(`${plane.url}/v1/admin/counters?job=${jobId}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  if (!response.ok) throw new Error(`GET /v1/admin/counters answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as CountersTotal;
};

try {
  const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "bench" });
  const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
  // One warm-up round, the measured ones, and one more so that the last measured round closes as any other.
  const spec: JobSpecInput = {
    name: "contribution", model: linearModel(parameters / 10, 10),
    plan: { rounds: rounds + 2, clientsPerRound: devices, overCommit: 1, roundDeadlineSeconds: 3_600, localSteps: 1, aggregatorShards: shards },
  };
  const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(parameters));
  const { fetch: deviceFetch, requests } = devicesFetch(concurrency);
  const clients = await Promise.all(Array.from({ length: devices }, async () => {
    const device = new DeviceClient({ baseUrl: plane.url, fetch: deviceFetch });
    await device.register({});
    return device;
  }));
  const random = seededRandom(7);
  const deltas = clients.map(() => Float32Array.from({ length: parameters }, () => (random() - 0.5) / 100));
  const roles = workerdRoles(plane.process.pid!, port);
  if (roles.proxy.length !== 1 || roles.worker.length !== 1) throw new Error(`expected wrangler's two workerd processes (proxy and Worker), found ${JSON.stringify(roles)}`);
  const cpu = () => ({ worker: cpuMs(roles.worker), proxy: cpuMs(roles.proxy) });

  // The ceiling's unit, the trivial route, and requests that add one piece each, as many in flight as the devices send.
  const { token } = clients[0].credentials!;
  const warmTask = await clients[0].checkIn({});
  if (warmTask.status !== "task") throw new Error(`expected a task of ${job.id}, got ${JSON.stringify(warmTask).slice(0, 200)}`);
  const references: [string, number, () => Promise<Response>][] = [
    [TRIVIAL, TRIVIAL_REQUESTS, () => fetch(`${plane.url}/v1/health`)],
    ["GET /v1/admin/counters (5 object calls, no writes)", 300, () => fetch(`${plane.url}/v1/admin/counters`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })],
    ["POST /v1/ping (1 object call that writes a row)", 300, () => fetch(`${plane.url}/v1/ping`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: "{}" })],
    ["GET the model, unchanged (304)", 300, () => fetch(`${plane.url}${warmTask.task.modelUrl}`, { headers: { authorization: `Bearer ${token}`, "if-none-match": `"${warmTask.task.modelHash}"` } })],
  ];
  const measured: ReferenceRequest[] = [];
  for (const [name, count, send] of references) {
    for (let i = 0; i < 50; i++) await (await send()).arrayBuffer(); // warm: the isolate compiles the route's code first
    const start = cpu();
    let next = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const response = await send();
        await response.arrayBuffer();
        if (response.status >= 400) throw new Error(`${name} answered ${response.status}`);
      }
    }));
    const end = cpu();
    measured.push({ name, requests: count, worker: end.worker - start.worker, proxy: end.proxy - start.proxy });
  }
  // What workerd spends doing nothing: the close waits and the devices' waits are idle stretches of the window.
  const idleStart = cpu();
  await sleep(3_000);
  const idleEnd = cpu();

  process.stdout.write(`${devices} devices, ${parameters.toLocaleString("en")} parameters, ${shards} shard(s): warm-up round ...`);
  await runRound({ clients, deltas, round: 1, closeMs: CLOSE_MS, mark: () => undefined });

  const before = await counters(job.id);
  Object.assign(requests, { checkIns: 0, downloads: 0, uploads: 0, other: 0 });
  const phases = Object.fromEntries(PHASES.map((p) => [p, { worker: 0, proxy: 0 }])) as Record<Phase, { worker: number; proxy: number }>;
  const started = performance.now();
  let last = cpu();
  for (let r = 2; r < rounds + 2; r++) {
    process.stdout.write(` ${r - 1}`);
    await runRound({
      clients, deltas, round: r, closeMs: CLOSE_MS,
      mark: (phase) => {
        const now = cpu();
        phases[phase].worker += now.worker - last.worker;
        phases[phase].proxy += now.proxy - last.proxy;
        last = now;
      },
    });
  }
  const seconds = (performance.now() - started) / 1000;
  const after = await counters(job.id);
  const status = await owner.status(job.id);
  if (!status.rounds.some((x) => x.round === rounds + 1 && x.status === "closed")) throw new Error(`the last measured round had not closed ${CLOSE_MS} ms after its last upload`);
  if (after.objects.some((o, i) => o.instance !== before.objects[i]?.instance)) throw new Error("an object restarted during the measured rounds: its counters began again");
  console.log(` done in ${seconds.toFixed(1)} s`);

  const result: ContributionResult = {
    date: new Date().toISOString(),
    machine: `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
    loadavg: readFileSync("/proc/loadavg", "utf8").trim(),
    parameters, devices, rounds, concurrency, shards, seconds,
    phases,
    requests: { ...requests },
    references: measured,
    idleMsPerSecond: { worker: (idleEnd.worker - idleStart.worker) / 3, proxy: (idleEnd.proxy - idleStart.proxy) / 3 },
    before,
    after,
  };
  const report = contributionReport(result);
  for (const line of report.summary) console.log(line);
  await writeFile(`${args.out}.json`, `${JSON.stringify(report.json, null, 2)}\n`);
  await writeFile(`${args.out}.md`, report.markdown);
  console.log(`wrote ${args.out}.md and ${args.out}.json`);
} catch (error) {
  const log = readFileSync(plane.logFile, "utf8").trim().split("\n").slice(-20).join("\n");
  process.stderr.write(`\nwrangler dev's log (last lines):\n${log}\n`);
  throw error;
} finally {
  await plane.stop("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
