// `npm run bench:load`: the real control plane under `wrangler dev` on loopback, with simulated
// devices (1,000 and 10,000 by default) checking in, pinging, binding and reporting against the 20
// jobs of the paper's workload; in the same run, a trivial route's request rate as the ceiling.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobSpecInput, TensorSpec } from "@propius/shared";
import { sampleDevices, type DatasetSizeRecord, type DeviceSpecRecord } from "../control/src/simulator/devices.js";
import { DEFAULT_DEVICE_MODEL } from "../control/src/simulator/devices.js";
import { SPEED_ATTRIBUTE } from "../control/src/clients/client-manager.js";
import { workloadJobs, workloadSchema } from "../control/src/simulator/workload.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { driveDevices, percentile, trivialRate, type LoadDevice } from "./lib/load-driver.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { POLICY_NAMES, isPolicyName } from "../control/src/scheduling/policies/index.js";

const HELP = `npm run bench:load -- [options]

  --devices <n,n,...>   simulated device counts, one run each (default 1000,10000)
  --seconds <s>         how long devices run in each (default 30)
  --concurrency <n>     requests in flight (default 64)
  --policies <a,b,...>  SCHEDULING_POLICY of each run, side by side (default irs,client-random)
  --shards <n>          CLIENT_SHARDS (default 4)
  --workload <file>     jobs (default data/paper-workload.json)
  --out <path>          results: <path>.md and <path>.json (default docs/load-benchmark)
`;

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "1000,10000" }, seconds: { type: "string", default: "30" }, concurrency: { type: "string", default: "64" },
    policies: { type: "string", default: "irs,client-random" }, shards: { type: "string", default: "4" },
    workload: { type: "string", default: join(ROOT, "data/paper-workload.json") }, out: { type: "string", default: join(ROOT, "docs/load-benchmark") },
    help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const counts = args.devices.split(",").map(Number);
const policies = args.policies.split(",");
if (!policies.every(isPolicyName)) {
  process.stderr.write(`bench:load: --policies takes names among ${POLICY_NAMES.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const shards = Number(args.shards);
if (counts.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(shards) || shards < 1 || shards > 1024) {
  process.stderr.write(`bench:load: --devices takes positive integers, --seconds a positive number, --concurrency a positive integer, --shards an integer from 1 to 1024\n\n${HELP}`);
  process.exit(2);
}

const readJson = async <T>(path: string) => JSON.parse(await readFile(path, "utf8")) as T;
const workload = workloadSchema.parse(await readJson(args.workload));
const specs = await readJson<DeviceSpecRecord[]>(join(ROOT, "data/device-specs.json"));
const sizes = await readJson<DatasetSizeRecord[]>(join(ROOT, "data/client-dataset-sizes.json"));
const model = linearModel(16, 16);
const tensors: TensorSpec[] = model.weightSpecs;
const script = await buildWorkerBundle();
await stopBundler();

const ADMIN_KEY = "bench-admin-key";
interface Row {
  policy: string;
  devices: number;
  seconds: number;
  bindingsPerSecond: number;
  checkInsPerSecond: number;
  requestsPerSecond: number;
  checkInP50Ms: number;
  checkInP99Ms: number;
  reportsPerSecond: number;
  offers: number;
  pings: number;
  errors: number;
  enrolmentsPerSecond: number;
  trivialRequestsPerSecond: number;
  trivialP50Ms: number;
  trivialP99Ms: number;
}
const results: Row[] = [];
for (const count of counts) for (const policy of policies) {
  const dir = await mkdtemp(join(tmpdir(), "propius-load-"));
  const plane = await startControlPlane({
    port: await freePort(), script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"),
    vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "bench-token-secret", SCHEDULING_POLICY: policy, CLIENT_SHARDS: args.shards },
  });
  try {
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "bench" });
    const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
    for (const job of workloadJobs(workload)) {
      const spec: JobSpecInput = {
        name: job.id, model,
        plan: { rounds: 100_000, clientsPerRound: job.demand, overCommit: job.overCommit, roundDeadlineSeconds: job.reportTimeoutS, localSteps: 1 },
        constraints: job.constraints, privateConstraints: job.privateConstraints,
      };
      await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(256));
    }

    process.stdout.write(`${count} devices, ${policy}: enrolling ...`);
    const sampled = sampleDevices(count, specs, sizes, DEFAULT_DEVICE_MODEL, count);
    const enrolStart = performance.now();
    const devices: LoadDevice[] = new Array(count);
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < count; i = next++) {
          const attributes = { ...sampled[i].view.attributes, [SPEED_ATTRIBUTE]: sampled[i].view.speed };
          const response = await fetch(`${plane.url}/v1/clients`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ attributes }) });
          if (response.status !== 201) throw new Error(`enrolment answered ${response.status}: ${await response.text()}`);
          const { token } = (await response.json()) as { token: string };
          devices[i] = { token, attributes, privateAttributes: sampled[i].privateAttributes, task: null, readyAt: 0 };
        }
      }),
    );
    const enrolRate = count / ((performance.now() - enrolStart) / 1000);
    process.stdout.write(` ${enrolRate.toFixed(0)}/s; trivial route ...`);
    const ceiling = await trivialRate(plane.url, 5, concurrency);
    process.stdout.write(` ${ceiling.rate.toFixed(0)} req/s; devices running for ${seconds} s ...\n`);
    const figures = await driveDevices({ url: plane.url, devices, tensors, seconds, concurrency });
    const row: Row = {
      policy,
      devices: count,
      seconds: round(figures.seconds, 1),
      bindingsPerSecond: round(figures.bindings / figures.seconds, 1),
      checkInsPerSecond: round(figures.checkIns / figures.seconds, 1),
      requestsPerSecond: round(figures.requests / figures.seconds, 1),
      checkInP50Ms: round(percentile(figures.checkInMs, 0.5), 1),
      checkInP99Ms: round(percentile(figures.checkInMs, 0.99), 1),
      reportsPerSecond: round(figures.reports / figures.seconds, 1),
      offers: figures.offers,
      pings: figures.pings,
      errors: figures.errors,
      enrolmentsPerSecond: round(enrolRate, 1),
      trivialRequestsPerSecond: round(ceiling.rate, 1),
      trivialP50Ms: round(ceiling.p50, 1),
      trivialP99Ms: round(ceiling.p99, 1),
    };
    results.push(row);
    console.log(
      `  bindings ${row.bindingsPerSecond}/s, check-ins ${row.checkInsPerSecond}/s (p50 ${row.checkInP50Ms} ms, p99 ${row.checkInP99Ms} ms), ` +
        `reports ${row.reportsPerSecond}/s, all requests ${row.requestsPerSecond}/s against ${row.trivialRequestsPerSecond}/s on /v1/health; errors ${row.errors}`,
    );
    console.log(`  reports refused as stale: ${JSON.stringify(figures.stale)}`);
    for (const sample of figures.errorSamples) console.log(`    error: ${sample}`);
  } finally {
    await plane.stop("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  }
}

const machine = `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB (${Math.round(freemem() / 2 ** 30)} GiB free at the end), Node ${process.version}`;
const settings = { policies, shards, concurrency, seconds, jobs: workload.arrivals.length };
await writeFile(`${args.out}.json`, `${JSON.stringify({ date: new Date().toISOString(), machine, settings, results }, null, 2)}\n`);
await writeFile(`${args.out}.md`, markdown(machine, settings, results));
console.log(`wrote ${args.out}.md and ${args.out}.json`);

/** Binding throughput of each policy over the last one's (the baseline), per device count. */
function ratios(rows: typeof results): string[] {
  const baseline = policies[policies.length - 1];
  const lines: string[] = [];
  for (const count of counts) {
    const base = rows.find((r) => r.devices === count && r.policy === baseline);
    for (const row of rows.filter((r) => r.devices === count && r.policy !== baseline)) {
      if (base && base.bindingsPerSecond > 0) lines.push(`- ${count} devices: ${row.policy} binds ${round(row.bindingsPerSecond / base.bindingsPerSecond, 2)}x as many devices per second as ${baseline}.`);
    }
  }
  return lines.length ? [...lines, ""] : [];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function markdown(machineLine: string, s: typeof settings, rows: typeof results): string {
  const lines = [
    "# Load benchmark: the control plane under `wrangler dev`",
    "",
    `Measured by \`npm run bench:load\` on ${new Date().toISOString().slice(0, 10)}: ${machineLine}. The load generator and`,
    "`wrangler dev` (workerd) share the machine, on loopback.",
    "",
    `Settings: ${s.shards} client-manager shards, ${s.jobs} jobs (the paper workload's profiles, a 256-parameter`,
    `model, every job running), ${s.concurrency} requests in flight, ${s.seconds} s per run. A device checks in, accepts an offer when it meets`,
    "the job's private constraint (dataset size), pings once, reports a synthetic delta and checks in again; told to wait, it comes back",
    "when told. The trivial route (`GET /v1/health`) is measured just before, with the same concurrency: the ceiling for this machine.",
    "",
    "| devices | policy | bindings/s | check-ins/s | check-in p50 (ms) | check-in p99 (ms) | reports/s | all requests/s | trivial route req/s | errors |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.devices} | ${r.policy} | ${r.bindingsPerSecond} | ${r.checkInsPerSecond} | ${r.checkInP50Ms} | ${r.checkInP99Ms} | ${r.reportsPerSecond} | ${r.requestsPerSecond} | ${r.trivialRequestsPerSecond} | ${r.errors} |`),
    "",
    ...ratios(rows),
  ];
  return `${lines.join("\n")}\n`;
}
