/**
 * `npm run simulate`: runs the scheduling policies over a trace-driven workload in simulated time
 * (control/src/simulator) and writes docs/simulation.md, docs/simulation.svg and
 * docs/simulation.json. Prints each policy's progress while it runs.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { POLICY_NAMES, isPolicyName, type PolicyName } from "../control/src/scheduling/policies/index.js";
import {
  DEFAULT_DEVICE_MODEL,
  barChart,
  markdownReport,
  notesOf,
  outcomes,
  simulate,
  targets,
  workloadSchema,
  type SimulationResult,
  type Target,
} from "../control/src/simulator/index.js";
import { ROOT } from "./lib/node-bundle.mjs";
import { defaultDataDir, readTraces } from "./lib/traces.js";

const defaultData = defaultDataDir();

const HELP = `npm run simulate -- [options]

  --policies <a,b,...>   policies to run (default: all: ${POLICY_NAMES.join(", ")})
  --workload <file>      jobs and arrivals (default ${relative(ROOT, join(defaultData, "paper-workload.json"))})
  --devices <n>          devices (default: the workload's clients)
  --seed <n>             seed of devices, availability and policies' randomness (default 1)
  --online-hours <h>     mean online period of a device (default ${DEFAULT_DEVICE_MODEL.meanOnlineS / 3600})
  --offline-hours <h>    mean offline period of a device (default ${DEFAULT_DEVICE_MODEL.meanOfflineS / 3600})
  --retry <s>            seconds before a device that got no task checks in again (default 10)
  --max-days <d>         stop a policy's run at this simulated time (default 60), or after 2
                         simulated days in which no round closed
  --data <dir>           device-specs.json and client-dataset-sizes.json (default ${relative(ROOT, defaultData)})
  --out <path>           <path>.md, .svg and .json (default docs/simulation; "-" writes nothing)
  -h, --help             this help
`;

const { values: flags } = parseArgs({
  options: {
    policies: { type: "string", default: POLICY_NAMES.join(",") },
    workload: { type: "string" },
    devices: { type: "string" },
    seed: { type: "string", default: "1" },
    "online-hours": { type: "string", default: String(DEFAULT_DEVICE_MODEL.meanOnlineS / 3600) },
    "offline-hours": { type: "string", default: String(DEFAULT_DEVICE_MODEL.meanOfflineS / 3600) },
    retry: { type: "string", default: "10" },
    "max-days": { type: "string", default: "60" },
    data: { type: "string", default: defaultData },
    out: { type: "string", default: "docs/simulation" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

function positive(name: string, integer: boolean): number | undefined {
  const raw = flags[name as keyof typeof flags];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) fail(`--${name} must be a positive ${integer ? "integer" : "number"}`);
  return value;
}

const policies = flags.policies!.split(",").map((p) => p.trim()).filter(Boolean);
for (const p of policies) if (!isPolicyName(p)) fail(`unknown policy '${p}'`);
const seed = Number(flags.seed);
if (!Number.isInteger(seed) || seed < 0) fail("--seed must be a non-negative integer");
const dataDir = resolve(flags.data!);
const workloadFile = resolve(flags.workload ?? join(dataDir, "paper-workload.json"));
const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as unknown;

const parsed = workloadSchema.safeParse(await readJson(workloadFile));
if (!parsed.success) fail(`${workloadFile} is not a workload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
const workload = parsed.data;
const traces = await readTraces(dataDir);
if ("missing" in traces) fail(`no device traces: ${traces.missing} is missing`);
const { deviceSpecs, datasetSizes } = traces;
const devices = positive("devices", true) ?? workload.clients;
const model = { meanOnlineS: positive("online-hours", false)! * 3600, meanOfflineS: positive("offline-hours", false)! * 3600 };
const retryS = positive("retry", false)!;
const maxSimulatedS = positive("max-days", false)! * 86_400;

const say = (line: string) => process.stdout.write(`${line}\n`);
const hours = (s: number) => (s / 3600).toFixed(1);
const rounds = workload.arrivals.reduce((sum, a) => sum + workload.profiles.find((p) => p.profile === a.profile)!.total_rounds, 0);
say(`simulating ${policies.length} policies: ${devices} devices, ${workload.arrivals.length} jobs (${rounds} rounds) from ${relative(process.cwd(), workloadFile)}, seed ${seed}`);

const started = performance.now();
const results: SimulationResult[] = [];
for (const policy of policies as PolicyName[]) {
  say(`${policy}: running`);
  const result = simulate({
    workload, deviceSpecs, datasetSizes, policy, seed, devices, retryS, maxSimulatedS, model: { ...model },
    onProgress: (p) => say(`  ${policy}: ${hours(p.simulatedS)} h simulated, rounds ${p.roundsDone}/${p.roundsTotal}, jobs done ${p.jobsDone}/${p.jobsTotal}`),
  });
  results.push(result);
  say(
    `${policy}: done in ${result.wallTimeS.toFixed(1)} s: utilization ${result.utilization.toFixed(4)}, average JCT ${hours(result.avgJctS)} h, ` +
      `${result.bindingThroughput.toFixed(2)} bindings/s, jobs completed / waiting / stalled / failed / running ${outcomes(result)}, over-assignments ${result.overAssignments}` +
      (result.stalled ? " (stopped: no round closed for 2 simulated days)" : result.jobsRunning > 0 ? " (stopped at --max-days)" : ""),
  );
}
const totalWallS = (performance.now() - started) / 1000;

const verdict = (t: Target) => (t.target === null ? "" : `; target ${t.target}x: ${t.reached ? "reached" : "not reached"}`);
for (const t of targets(results, totalWallS)) say(`${t.name}: ${t.value === null ? "-" : `${t.value.toFixed(2)}x`} (${t.compared}${verdict(t)})`);
say(`total wall time ${totalWallS.toFixed(1)} s`);

if (flags.out !== "-") {
  const out = resolve(ROOT, flags.out!);
  const online = model.meanOnlineS / (model.meanOnlineS + model.meanOfflineS);
  const setup = [
    `Workload: \`${relative(ROOT, workloadFile)}\`: ${workload.arrivals.length} jobs, ${rounds} rounds in all; model of ${workload.model_size_kbit} kbit; ${devices} devices; seed ${seed}.`,
    `Devices: phone models drawn with replacement from \`${relative(ROOT, join(dataDir, "device-specs.json"))}\` (public attributes cpu_f, ram_gb, fp16_mem, android_os; speed factor inference_latency), dataset sizes from \`client-dataset-sizes.json\` (private, checked on the device).`,
    `Task time: download and upload of the model at the device's link rate (log-normal, median ${DEFAULT_DEVICE_MODEL.medianKbps / 1000} Mbit/s, sigma ${DEFAULT_DEVICE_MODEL.bandwidthSigma}), plus training, 3 x inference latency per sample x local steps x batch size, plus 3 s.`,
    `Availability: devices alternate online and offline periods, exponential with means ${model.meanOnlineS / 3600} h and ${model.meanOfflineS / 3600} h (${(online * 100).toFixed(1)} % online on average); a task in progress is lost when its device goes offline.`,
    `Check-ins: a device checks in when it comes online, 1 s after it reports or gives up a task, and ${retryS} s (+/- 20 %) after a check-in that bound nothing.`,
    "Rounds: a round attempt binds up to ceil(demand x over-selection) devices until its selection timeout; with fewer than ceil(0.8 x demand) bound by then it is retried at once; it closes as soon as demand reports are in, and at selection + report timeout it aggregates with at least 0.8 x demand reports or is retried. Leases run to that deadline; a device that cannot finish by it gives up there.",
    `A policy's run ends when the last job finishes, after ${maxSimulatedS / 86_400} simulated days, or after two simulated days in which no round closed (a livelock: the table marks the run stalled).`,
    "Jobs: completed; stalled (not done, and no round of it closed in the two simulated days before the run ended, or the run stopped as a livelock); failed (gave up); running (still progressing at the time limit).",
    "Ratios: the best central policy per metric. JCT ratios are taken over the jobs both policies completed (the table says how many); utilization and binding throughput are run-wide. Wasted device-h: tasks that counted toward no closed round.",
    "Utilization: device-seconds of tasks whose reports counted toward a closed round, over device-seconds online until the last job finished. Binding throughput: bindings over the makespan. Scheduling delay: from a round attempt's opening to the end of its selection (full, timed out or closed).",
  ];
  const previous = existsSync(`${out}.md`) ? await readFile(`${out}.md`, "utf8") : null;
  const command = `npm run simulate${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  await writeFile(`${out}.md`, markdownReport({ results, setup, command, totalWallS, notes: notesOf(previous) }));
  await writeFile(`${out}.svg`, barChart(results));
  await writeFile(`${out}.json`, `${JSON.stringify({ command, seed, devices, workload: relative(ROOT, workloadFile), model, retryS, totalWallS, targets: targets(results, totalWallS), results }, null, 1)}\n`);
  say(`wrote ${relative(process.cwd(), out)}.md, .svg and .json`);
}
