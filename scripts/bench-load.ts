// `npm run bench:load`: the real control plane under `wrangler dev` on loopback, with simulated
// devices (1,000 and 10,000 by default) checking in, binding and reporting against the 20 jobs of
// the paper's workload, over HTTP and over push connections side by side; in the same run, a
// trivial route's request rate (and, for push, the keep-alive frame rate) as the ceiling. Devices under
// client-side random choice take the paper's back-off after a refused pick, so IRS against it is
// the binding throughput the paper means.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { driveDevices, mergeFigures, percentile, trivialRate, type Backoff, type Ceiling, type LoadFigures } from "./lib/load-driver.js";
import { createWorkloadJobs, enrolDevices, loadInputs } from "./lib/load-setup.js";
import { connectDevices, drivePushDevices, trivialFrameRate } from "./lib/push-load-driver.js";
import { nodeWebSocket } from "../node-client/src/web-socket.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { cpuMeter, workerdRoles, type Cpu } from "./lib/workerd-process.js";
import { POLICY_NAMES, isPolicyName } from "../control/src/scheduling/policies/index.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:load -- [options]

  --devices <n,n,...>   simulated device counts, one run each (default 1000,10000)
  --seconds <s>         how long devices run in each (default 30)
  --concurrency <n>     requests in flight (default 64)
  --policies <a,b,...>  SCHEDULING_POLICY of each run, side by side (default irs,client-random)
  --backoff <s,s>       client-random devices over HTTP: after a refused pick, wait the first
                        figure, doubled with each refusal in a row up to the second (default 1,64:
                        the paper's back-off); central policies' devices come back when told
  --transports <a,b>    how devices check in: http, push (default http,push)
  --connections <n>     push connections at most; devices beyond them check in over HTTP
                        (default 3000: about what wrangler dev holds within 20,000 open files)
  --shards <n>          CLIENT_SHARDS (default 4)
  --workload <file>     jobs (default data/paper-workload.json)
  --out <path>          results: <path>.md and <path>.json (default docs/load-benchmark)

  PROPIUS_KEEP_STATE=1 keeps each run's state folder and wrangler's log (its path is printed);
  PROPIUS_WRANGLER_LOG_LEVEL=debug makes that log say more.
`;

const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "1000,10000" }, seconds: { type: "string", default: "30" }, concurrency: { type: "string", default: "64" },
    policies: { type: "string", default: "irs,client-random" }, backoff: { type: "string", default: "1,64" }, transports: { type: "string", default: "http,push" }, connections: { type: "string", default: "3000" }, shards: { type: "string", default: "4" },
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
const TRANSPORTS = ["http", "push"] as const;
type Transport = (typeof TRANSPORTS)[number];
const transports = args.transports.split(",");
if (!transports.every((t): t is Transport => (TRANSPORTS as readonly string[]).includes(t))) {
  process.stderr.write(`bench:load: --transports takes names among ${TRANSPORTS.join(", ")}\n\n${HELP}`);
  process.exit(2);
}
const [initialS, maxS] = args.backoff.split(",").map(Number);
if (!(initialS > 0) || !(maxS >= initialS) || args.backoff.split(",").length !== 2) {
  process.stderr.write(`bench:load: --backoff takes two seconds, the first back-off and its cap (the cap at least the first)\n\n${HELP}`);
  process.exit(2);
}
const backoff: Backoff = { initialS, maxS };
/** Client-side choice backs off after a refused pick; a central policy's device comes back when told. */
const backoffOf = (policy: string) => (policy === "client-random" ? backoff : undefined);
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
const maxConnections = Number(args.connections);
const shards = Number(args.shards);
if (counts.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0) || !Number.isInteger(concurrency) || concurrency < 1 || !Number.isInteger(shards) || shards < 1 || shards > 1024 || !Number.isInteger(maxConnections) || maxConnections < 1) {
  process.stderr.write(`bench:load: --devices takes positive integers, --seconds a positive number, --concurrency and --connections positive integers, --shards an integer from 1 to 1024\n\n${HELP}`);
  process.exit(2);
}

const inputs = await loadInputs(args.workload);
const tensors = inputs.model.weightSpecs;
const script = await buildWorkerBundle();
await stopBundler();

const ADMIN_KEY = "bench-admin-key";
interface Row {
  transport: Transport;
  /** Devices on push connections (the others check in over HTTP). */
  connected: number;
  policy: string;
  devices: number;
  seconds: number;
  bindingsPerSecond: number;
  checkInsPerSecond: number;
  requestsPerSecond: number;
  checkInP50Ms: number;
  checkInP99Ms: number;
  /** Check-ins that bound nothing (refused picks, waits, offers), per binding. */
  refusedPerBinding: number;
  /** Share of the HTTP lanes' time with a device due (1: saturated), or null with no HTTP lanes. */
  lanesBusy: number | null;
  reportsPerSecond: number;
  offers: number;
  pushes: number;
  errors: number;
  enrolmentsPerSecond: number;
  connectionsPerSecond: number | null;
  trivialRequestsPerSecond: number;
  trivialP50Ms: number;
  trivialP99Ms: number;
  framesPerSecond: number | null;
  frameP50Ms: number | null;
  frameP99Ms: number | null;
  /** bindings/s over the trivial route's req/s (target: at least 0.5). */
  bindingRatio: number;
  /** check-in p99 over the trivial route's p99 (target: at most 1.5). */
  p99Ratio: number;
}
const results: (Row & { cpuMsPerBinding: Cpu; cpuMsPerTrivialRequest: Cpu; cpuMsPerConnection: Cpu | null })[] = [];

for (const count of counts) for (const policy of policies) for (const transport of transports) {
  const dir = await mkdtemp(join(tmpdir(), "propius-load-"));
  const port = await freePort();
  const plane = await startControlPlane({
    port, script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"),
    vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "bench-token-secret", SCHEDULING_POLICY: policy, CLIENT_SHARDS: args.shards },
  });
  try {
    await createWorkloadJobs(plane.url, ADMIN_KEY, inputs);

    process.stdout.write(`${count} devices, ${policy}, ${transport}: enrolling ...`);
    const devices = await enrolDevices(plane.url, count, inputs, concurrency);
    process.stdout.write(` ${devices.rate.toFixed(0)}/s; trivial route ...`);
    const roles = workerdRoles(plane.process.pid!, port);
    const meter = cpuMeter(roles);
    const ceiling = await trivialRate(plane.url, 5, concurrency);
    const trivialCpu = meter.perUnit(Math.round(ceiling.rate * 5));
    process.stdout.write(` ${ceiling.rate.toFixed(0)} req/s;`);
    let frames: Ceiling | null = null;
    let connectRate: number | null = null;
    let connected = 0;
    let connectCpu: Cpu | null = null;
    let runMeter = cpuMeter(roles);
    let figures: LoadFigures;
    if (transport === "push") {
      const connector = nodeWebSocket();
      frames = await trivialFrameRate(plane.url, devices.list.slice(0, concurrency).map((d) => d.token), connector, 5);
      process.stdout.write(` keep-alive frames ${frames.rate.toFixed(0)}/s; connecting ...`);
      // Devices beyond the connections the machine holds check in over HTTP, as such devices do; the lanes are shared in proportion.
      const connecting = devices.list.slice(0, Math.min(count, maxConnections));
      const polling = devices.list.slice(connecting.length);
      const connectStart = performance.now();
      const connectMeter = cpuMeter(roles);
      const sessions = await connectDevices(plane.url, connecting, connector, concurrency);
      connectRate = connecting.length / ((performance.now() - connectStart) / 1000);
      connected = connecting.length;
      connectCpu = connectMeter.perUnit(connected);
      const lanes = polling.length === 0 ? concurrency : Math.min(concurrency - 1, Math.max(1, Math.round((concurrency * connected) / count)));
      process.stdout.write(` ${connectRate.toFixed(0)}/s; ${connected} devices on push connections${polling.length ? ` and ${polling.length} over HTTP` : ""} running for ${seconds} s ...\n`);
      runMeter = cpuMeter(roles);
      try {
        const [pushed, polled] = await Promise.all([
          drivePushDevices({ url: plane.url, devices: connecting, tensors, seconds, concurrency: lanes, sessions }),
          polling.length ? driveDevices({ url: plane.url, devices: polling, tensors, seconds, concurrency: concurrency - lanes, backoff: backoffOf(policy) }) : null,
        ]);
        figures = polled ? mergeFigures(pushed, polled) : pushed;
      } finally {
        for (const session of sessions) session.close();
      }
    } else {
      process.stdout.write(` devices running for ${seconds} s ...\n`);
      runMeter = cpuMeter(roles);
      figures = await driveDevices({ url: plane.url, devices: devices.list, tensors, seconds, concurrency, backoff: backoffOf(policy) });
    }
    const bindingCpu = runMeter.perUnit(figures.bindings);
    const row = { ...rowOf(transport, policy, count, connected, figures, devices.rate, connectRate, ceiling, frames), cpuMsPerBinding: bindingCpu, cpuMsPerTrivialRequest: trivialCpu, cpuMsPerConnection: connectCpu };
    results.push(row);
    console.log(
      `  bindings ${row.bindingsPerSecond}/s (${row.bindingRatio} of the trivial route's req/s), ${row.refusedPerBinding} refused check-ins per binding, ` +
        `HTTP lanes busy ${row.lanesBusy === null ? "-" : `${Math.round(row.lanesBusy * 100)} %`}, check-ins ${row.checkInsPerSecond}/s ` +
        `(p50 ${row.checkInP50Ms} ms, p99 ${row.checkInP99Ms} ms: ${row.p99Ratio}x the trivial route's p99 ${row.trivialP99Ms} ms), ` +
        `reports ${row.reportsPerSecond}/s, HTTP requests ${row.requestsPerSecond}/s against ${row.trivialRequestsPerSecond}/s on /v1/health` +
        (frames ? `, pushes ${row.pushes}, keep-alive frames ${row.framesPerSecond}/s (p99 ${row.frameP99Ms} ms)` : "") + `; errors ${row.errors}`,
    );
    console.log(`  CPU ms per binding: workerd ${bindingCpu.worker}, its proxy ${bindingCpu.proxy}, this client ${bindingCpu.client}; per trivial request: ${trivialCpu.worker}, ${trivialCpu.proxy}, ${trivialCpu.client}`);
    console.log(`  reports refused as stale: ${JSON.stringify(figures.stale)}`);
    for (const sample of figures.errorSamples) console.log(`    error: ${sample}`);
  } catch (error) {
    // The control plane's own account of a failure is in its log, which goes with the folder below.
    const log = (await readFile(join(dir, "wrangler.log"), "utf8")).trim().split("\n").slice(-20).join("\n");
    process.stderr.write(`\nwrangler dev's log (last lines):\n${log}\n`);
    throw error;
  } finally {
    await plane.stop("SIGTERM");
    if (process.env.PROPIUS_KEEP_STATE) console.log(`kept ${dir}`); else await rm(dir, { recursive: true, force: true });
  }
}

const machine = machineLine({ freeAtEnd: true });
const settings = { policies, transports, shards, concurrency, seconds, backoff, jobs: inputs.workload.arrivals.length };
await writeFile(`${args.out}.json`, `${JSON.stringify({ date: new Date().toISOString(), machine, settings, results }, null, 2)}\n`);
await writeFile(`${args.out}.md`, markdown(machine, settings, results));
console.log(`wrote ${args.out}.md and ${args.out}.json`);

function rowOf(transport: Transport, policy: string, count: number, connected: number, f: LoadFigures, enrolRate: number, connectRate: number | null, ceiling: Ceiling, frames: Ceiling | null): Row {
  const perSecond = (n: number) => round(n / f.seconds, 1);
  const p99 = percentile(f.checkInMs, 0.99);
  return {
    transport, policy, devices: count, connected, seconds: round(f.seconds, 1),
    bindingsPerSecond: perSecond(f.bindings), checkInsPerSecond: perSecond(f.checkIns), requestsPerSecond: perSecond(f.requests),
    checkInP50Ms: round(percentile(f.checkInMs, 0.5), 1), checkInP99Ms: round(p99, 1),
    refusedPerBinding: f.bindings === 0 ? Number.POSITIVE_INFINITY : round((f.checkIns - f.bindings) / f.bindings, 3),
    lanesBusy: f.laneMs > 0 ? round(1 - f.laneIdleMs / f.laneMs, 3) : null,
    reportsPerSecond: perSecond(f.reports), offers: f.offers, pushes: f.pushes, errors: f.errors,
    enrolmentsPerSecond: round(enrolRate, 1), connectionsPerSecond: connectRate === null ? null : round(connectRate, 1),
    trivialRequestsPerSecond: round(ceiling.rate, 1), trivialP50Ms: round(ceiling.p50, 1), trivialP99Ms: round(ceiling.p99, 1),
    framesPerSecond: frames && round(frames.rate, 1), frameP50Ms: frames && round(frames.p50, 1), frameP99Ms: frames && round(frames.p99, 1),
    bindingRatio: round(f.bindings / f.seconds / ceiling.rate, 3), p99Ratio: round(p99 / ceiling.p99, 2),
  };
}

/** Binding throughput of each policy over the last one's (the baseline), per device count and transport. */
function ratios(rows: typeof results): string[] {
  const baseline = policies[policies.length - 1];
  const lines: string[] = [];
  for (const count of counts) for (const transport of transports) {
    const base = rows.find((r) => r.devices === count && r.transport === transport && r.policy === baseline);
    for (const row of rows.filter((r) => r.devices === count && r.transport === transport && r.policy !== baseline)) {
      if (base && base.bindingsPerSecond > 0) {
        lines.push(
          `- ${count} devices, ${transport}: ${row.policy} binds ${round(row.bindingsPerSecond / base.bindingsPerSecond, 2)}x as many devices per second as ${baseline}, ` +
            `with ${row.refusedPerBinding} refused check-ins per binding against ${base.refusedPerBinding}.`,
        );
      }
    }
  }
  return lines.length ? [...lines, ""] : [];
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function markdown(machineLine: string, s: typeof settings, rows: typeof results): string {
  const dash = (v: number | null) => (v === null ? "-" : String(v));
  const lines = [
    "# Load benchmark: the control plane under `wrangler dev`",
    "",
    `Measured by \`npm run bench:load\` on ${new Date().toISOString().slice(0, 10)}: ${machineLine}. The load generator and`,
    "`wrangler dev` (workerd) share the machine, on loopback.",
    "",
    `Settings: ${s.shards} client-manager shards, ${s.jobs} jobs (the paper workload's profiles, a 256-parameter`,
    `model, every job running), at most ${s.concurrency} requests or check-in frames in flight, ${s.seconds} s per run, a fresh control plane per row.`,
    "A device checks in, accepts an offer when it meets the job's private constraint (dataset size), reports a synthetic delta at once",
    "(its task is shorter than the 30 s ping interval, so it does not ping) and checks in again.",
    "- **http**: check-ins are `POST /v1/checkin`; a device told to wait comes back when told. Under `client-random` (client-side random",
    "  choice: the device picks a job and the server refuses a pick it is not eligible for or that is full) a device whose check-in",
    `  binds nothing backs off as the paper's baseline does: ${s.backoff.initialS} s, doubled with each refusal in a row up to ${s.backoff.maxS} s, reset by a binding.`,
    "  The lanes-busy column is the share of the HTTP lanes' time with a device due: at 100 % devices check in as fast as the control",
    "  plane answers (saturation), so bindings/s is the binding throughput the paper compares.",
    "- **push**: each device holds a push connection (`GET /v1/connect`, opened before the run; the rate is in the connections/s column);",
    "  check-ins are frames on it, and a device told to wait stays silent until its shard pushes it a task or an offer",
    "  (the pushes column). Reports are HTTP uploads in both. wrangler dev holds about 3,300 push connections on this machine",
    `  (each takes about six of the 20,000 open files a process may have here, across its proxy and workerd), so at most ${maxConnections.toLocaleString("en")} devices connect and`,
    "  the rest check in over HTTP, as devices that cannot hold a connection do; the requests in flight are shared in proportion.",
    "",
    "The ceilings, measured in the same run just before the devices start, with the same concurrency: the trivial route",
    "(`GET /v1/health`) for HTTP, and for push the keep-alive frame (`ping`, answered `pong` by the runtime without running the shard).",
    "The targets: bindings/s at least 0.5 of the trivial route's req/s; check-in p99 at most 1.5x the trivial route's p99; no errors.",
    "",
    "| devices | policy | transport | bindings/s | / trivial req/s | refused check-ins per binding | HTTP lanes busy | check-ins/s | check-in p50 (ms) | check-in p99 (ms) | / trivial p99 | reports/s | HTTP requests/s | pushes | trivial route req/s (p50, p99 ms) | keep-alive frames/s (p50, p99 ms) | connections/s | errors |",
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.devices} | ${r.policy} | ${r.transport === "push" && r.connected < r.devices ? `push (${r.connected} connected, the rest http)` : r.transport} | ${r.bindingsPerSecond} | ${r.bindingRatio} | ${r.refusedPerBinding} | ${r.lanesBusy === null ? "-" : `${Math.round(r.lanesBusy * 100)} %`} | ${r.checkInsPerSecond} | ${r.checkInP50Ms} | ${r.checkInP99Ms} | ${r.p99Ratio} | ${r.reportsPerSecond} | ${r.requestsPerSecond} | ${r.pushes} | ` +
        `${r.trivialRequestsPerSecond} (${r.trivialP50Ms}, ${r.trivialP99Ms}) | ${r.framesPerSecond === null ? "-" : `${r.framesPerSecond} (${r.frameP50Ms}, ${r.frameP99Ms})`} | ${dash(r.connectionsPerSecond)} | ${r.errors} |`),
    "",
    ...ratios(rows),
    "CPU milliseconds per binding (its check-ins, its report and its share of the rounds' close), of the runtime that runs the Worker and",
    "its objects, of wrangler's proxy in front of it, and of this load generator, from /proc and `process.cpuUsage()` over the run; beside",
    "them the same per trivial request, over the trivial route's 5 s. The last column is the whole machine's CPU per binding over its CPU",
    "per trivial request: how many trivial requests a binding costs (a ratio of 0.5 needs 2).",
    "",
    "| devices | policy | transport | runtime ms / binding | proxy | generator | runtime ms / trivial request | proxy | generator | trivial requests per binding |",
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => {
      const b = r.cpuMsPerBinding;
      const t = r.cpuMsPerTrivialRequest;
      const ratio = round((b.worker + b.proxy + b.client) / Math.max(0.001, t.worker + t.proxy + t.client), 1);
      return `| ${r.devices} | ${r.policy} | ${r.transport} | ${b.worker} | ${b.proxy} | ${b.client} | ${t.worker} | ${t.proxy} | ${t.client} | ${ratio} |`;
    }),
    "",
  ];
  return `${lines.join("\n")}\n`;
}
