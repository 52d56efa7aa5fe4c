// `npm run bench:rounds`: how long a round of the demo job takes against the work of its slowest
// device. The control plane runs under `wrangler dev` as `npm start` runs it, with 8 Node devices on
// the demo's non-IID shards (seed 1); each device writes an event log (--event-log). For every round:
// wall time (the server's round record: opened to closed) over the ceiling (the slowest device's task
// received to upload acknowledged: download, training, upload), for the demo MLP, then the CNN.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OwnerClient } from "@propius/edge-runtime";
import { parseEventLog } from "@propius/node-client";
import type { JobStatus } from "@propius/shared";
import { buildDeviceBundle, buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { startDemoClients, stopAll } from "./lib/demo-clients.js";
import { createDemoJob, warmDigits } from "./lib/demo-job.js";
import { DEMO_MODELS, type DemoModelName } from "./lib/demo-models.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { roundsReport, roundsTable, type ModelRun } from "./lib/rounds-report.js";
import { roundTimings, summarize } from "./lib/round-timings.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:rounds -- [options]

  --rounds <n>          rounds of each job (default 6; round 1 is printed but left out of the figures)
  --clients <n>         Node devices, and devices per round (default 8)
  --processes <n>       processes the devices run in (default: one per CPU core, at most --clients), as npm start
  --models <m,m>        the demo classifiers to run, in order (default mlp,cnn)
  --device-args "<a>"   more arguments for every device's command line (split at spaces), e.g. a mode to compare
  --seed <n>            seed of the non-IID data split (default 1, the demo's)
  --out <path>          results: <path>.md and <path>.json (default docs/rounds-benchmark)
  --keep                keep the run's folder (the devices' event logs, wrangler's log) and print where it is
`;
// A value of --device-args starts with "--", which parseArgs takes for a flag unless it is joined with "=".
const argv = process.argv.slice(2).flatMap((a, i, all) => (a === "--device-args" && i + 1 < all.length ? [`${a}=${all[i + 1]}`] : all[i - 1] === "--device-args" ? [] : [a]));
const { values: args } = parseArgs({
  args: argv,
  options: {
    rounds: { type: "string", default: "6" }, clients: { type: "string", default: "8" }, processes: { type: "string" },
    models: { type: "string", default: "mlp,cnn" }, "device-args": { type: "string", default: "" }, seed: { type: "string", default: "1" },
    out: { type: "string", default: join(ROOT, "docs/rounds-benchmark") }, keep: { type: "boolean" }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const usage = (message: string): never => (process.stderr.write(`bench:rounds: ${message}\n\n${HELP}`), process.exit(2));
const [rounds, clients, seed] = [args.rounds, args.clients, args.seed].map(Number);
const processes = args.processes === undefined ? Math.min(clients, availableParallelism()) : Number(args.processes);
if (![rounds, clients, processes].every((n) => Number.isInteger(n) && n >= 1) || rounds < 2 || clients > 64 || processes > clients || !Number.isInteger(seed) || seed < 0) {
  usage("--rounds (at least 2), --clients (at most 64) and --processes (at most --clients) take positive integers, --seed a whole number");
}
const models = args.models.split(",").map((m) => m.trim()) as DemoModelName[];
if (models.some((m) => !(DEMO_MODELS as readonly string[]).includes(m))) usage(`--models takes a list of ${DEMO_MODELS.join(", ")}`);
const deviceArgs = args["device-args"].split(/\s+/).filter(Boolean);
/** The acceptance targets: a round's wall time at most this many times its slowest device's own work. */
const TARGETS: Record<DemoModelName, number> = { mlp: 1.3, cnn: 1.1 };

const dir = await mkdtemp(join(tmpdir(), "propius-rounds-"));
const ADMIN_KEY = "bench-admin-key";
const loadBefore = loadavg();
const [script, entry] = await Promise.all([buildWorkerBundle(), buildDeviceBundle(), warmDigits(join(dir, "cache"))]);
await stopBundler();
const plane = await startControlPlane({ port: await freePort(), script, persistTo: join(dir, "state"), vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "bench-token-secret" }, logFile: join(dir, "wrangler.log") });
const runs: ModelRun[] = [];
try {
  const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "bench" });
  const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
  for (const model of models) {
    console.log(`${model}: ${rounds} rounds, ${clients} Node devices in ${processes} processes${deviceArgs.length ? `, device args: ${deviceArgs.join(" ")}` : ""} ...`);
    const run = await runJob(owner, model);
    runs.push(run);
    console.log(roundsTable(run));
  }
} catch (error) {
  console.error(`the run's folder (event logs, wrangler's log) is kept in ${dir}`);
  throw error;
} finally {
  await plane.stop();
}
const machine = machineLine();
const load = { before: loadBefore.map((l) => Number(l.toFixed(2))), after: loadavg().map((l) => Number(l.toFixed(2))) };
const command = `npm run bench:rounds -- ${argv.map((a) => a.replace(/^([^=]+=)?(.*\s.*)$/, '$1"$2"')).join(" ")}`.trim();
const date = new Date().toISOString();
await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, load, command, rounds, clients, processes, seed, deviceArgs, runs }, null, 2)}\n`);
await writeFile(`${args.out}.md`, roundsReport({ date, machine, load, command, clients, processes, seed, deviceArgs, runs }));
console.log(`load average (1, 5, 15 min) before ${load.before.join(" ")}, after ${load.after.join(" ")}\nwrote ${args.out}.md and ${args.out}.json`);
if (args.keep) console.log(`kept the event logs in ${dir}/events-<model>/`);
else await rm(dir, { recursive: true, force: true });

/** One demo job of `model` with fresh devices, each process writing its own event log; its rounds' timings. */
async function runJob(owner: OwnerClient, model: DemoModelName): Promise<ModelRun> {
  const job = await createDemoJob(owner, { rounds, clients, model });
  const logs = join(dir, `events-${model}`);
  await mkdir(logs, { recursive: true });
  const devices = startDemoClients({
    url: plane.url, count: clients, seed, processes, stateDir: join(dir, `devices-${model}`), cacheDir: join(dir, "cache"), entry,
    args: (first) => ["--event-log", join(logs, `process-${first}.jsonl`), ...deviceArgs],
    onLine: (i, line) => /error|refused|propius-node:/i.test(line) && console.log(`  [device ${i}] ${line}`),
  });
  let status: JobStatus;
  try {
    let reported = 0;
    for (;;) {
      status = await owner.status(job.id);
      const closed = status.rounds.filter((r) => r.status === "closed").length;
      if (closed > reported) console.log(`  round ${(reported = closed)} closed`);
      if (status.state !== "running" && status.state !== "pending_model") break;
      if (devices.every((d) => d.exitCode !== null || d.signalCode !== null)) throw new Error(`every device process exited before job ${job.id} ended`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await stopAll(devices);
  }
  if (status.state !== "done") throw new Error(`job ${job.id} ended ${status.state}`);
  const files = (await readdir(logs)).filter((f) => f.endsWith(".jsonl"));
  const lines = (await Promise.all(files.map(async (f) => parseEventLog(await readFile(join(logs, f), "utf8"), f)))).flat();
  const timings = roundTimings(job.id, status.rounds, lines);
  return { model, target: TARGETS[model], jobId: job.id, timings, summary: summarize(timings) };
}
