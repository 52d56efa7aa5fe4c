/**
 * `npm run bench:binding`: binding throughput at saturation in the simulator
 * (control/src/simulator/saturation.ts): devices check in as fast as the control plane answers,
 * it answers a fixed number of handshakes a second, and each policy binds what it can. IRS and
 * FIFO against client-side random choice with the paper's back-off, on the paper workload's
 * constraint classes and on the two strictest alone, and with long tasks, where the slots and not
 * the handshakes limit. Writes docs/binding-throughput.md and .json (`--out -`: nothing).
 */
import { readFile, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { CONSTRAINT_CLASSES, DEFAULT_DEVICE_MODEL, sampleDevices, saturate, type SaturationInput, type SaturationResult } from "../control/src/simulator/index.js";
import { ROOT } from "./lib/node-bundle.mjs";
import { defaultDataDir, readTraces } from "./lib/traces.js";
import { machineLine } from "./lib/machine.js";

const { values: flags } = parseArgs({ options: { out: { type: "string", default: "docs/binding-throughput" }, seed: { type: "string", default: "1" } } });
const seed = Number(flags.seed);
if (!Number.isInteger(seed) || seed < 0) throw new Error("--seed must be a non-negative integer");
const traces = await readTraces(defaultDataDir());
if ("missing" in traces) throw new Error(`no device traces: ${traces.missing} is missing`);

const DEVICES = 5_000;
const JOBS = 20;
const PAPER_TARGET = 2.76;
const devices = sampleDevices(DEVICES, traces.deviceSpecs, traces.datasetSizes, DEFAULT_DEVICE_MODEL, seed).map((d) => d.view);
const lowerBounds = (bounds: Record<string, number>) => Object.fromEntries(Object.entries(bounds).map(([k, min]) => [k, { min }]));
const jobsOf = (classes: number[], slots: number) =>
  Array.from({ length: JOBS }, (_, i) => ({ id: `job-${String(i).padStart(2, "0")}`, constraints: lowerBounds(CONSTRAINT_CLASSES[classes[i % classes.length]].public_constraint), slots }));

const scenarios: { name: string; settings: Omit<SaturationInput, "policy" | "seed" | "devices"> }[] = [
  { name: "saturated, the paper's three constraint classes", settings: { jobs: jobsOf([0, 1, 2], 200), handshakesPerSecond: 500, taskS: 5, backoff: { initialS: 1, maxS: 64 }, durationS: 600 } },
  { name: "saturated, the two strictest classes", settings: { jobs: jobsOf([0, 1], 200), handshakesPerSecond: 500, taskS: 5, backoff: { initialS: 1, maxS: 64 }, durationS: 600 } },
  { name: "not saturated: 60 s tasks, the slots limit", settings: { jobs: jobsOf([0, 1, 2], 65), handshakesPerSecond: 500, taskS: 60, backoff: { initialS: 1, maxS: 64 }, durationS: 600 } },
];
const POLICIES = ["irs", "fifo", "client-random"] as const;

const say = (line: string) => process.stdout.write(`${line}\n`);
const started = performance.now();
const rows: { scenario: string; results: SaturationResult[]; ratio: number }[] = [];
for (const { name, settings } of scenarios) {
  const results = POLICIES.map((policy) => {
    const result = saturate({ ...settings, policy, devices, seed });
    say(`${name}: ${policy}: ${result.bindingsPerSecond.toFixed(1)} bindings/s, ${result.refusedPerBinding.toFixed(3)} refused handshakes per binding`);
    return result;
  });
  const ratio = results[0].bindingsPerSecond / results[2].bindingsPerSecond;
  say(`${name}: irs / client-random ${ratio.toFixed(2)}x (the paper: ${PAPER_TARGET}x)`);
  rows.push({ scenario: name, results, ratio });
}
const wallS = (performance.now() - started) / 1000;

if (flags.out !== "-") {
  const out = join(ROOT, flags.out!);
  const date = new Date().toISOString().slice(0, 10);
  const table = [
    "| scenario | policy | bindings/s | refused handshakes per binding | handshakes | IRS / client-random |",
    "| --- | --- | ---: | ---: | ---: | ---: |",
    ...rows.flatMap((row) =>
      row.results.map((r, i) => `| ${i === 0 ? row.scenario : ""} | ${r.policy} | ${r.bindingsPerSecond.toFixed(1)} | ${r.refusedPerBinding.toFixed(3)} | ${r.handshakes} | ${i === 0 ? `${row.ratio.toFixed(2)}x` : ""} |`),
    ),
  ].join("\n");
  const md = `# Binding throughput at saturation

Measured by \`npm run bench:binding\` on ${date} (${machineLine()}; ${wallS.toFixed(1)} s). The model is
\`control/src/simulator/saturation.ts\`, over the production policies (\`checkIn\` and \`createPolicy\`).

## Setup

- ${DEVICES} devices drawn from \`${relative(ROOT, defaultDataDir())}/device-specs.json\` (seed ${seed}), all online; ${JOBS} jobs with the public constraints of the paper workload's classes, each with a fixed number of slots a bound device holds for the task's length.
- The control plane answers 500 handshakes a second, one at a time, in arrival order; devices check in again as soon as they are answered (saturation).
- A central policy's check-in binds the device to an eligible job with a free slot, or answers it to wait until the earliest such slot frees. Client-side random choice: the device picks any job; a pick the server refuses (ineligible or full) sends it into the paper's back-off, 1 s doubling to 64 s with each refusal in a row, reset by a binding.
- Every handshake that binds nothing (a refused pick, a wait) is counted as refused.

## Results

${table}

The paper reports ${PAPER_TARGET}x binding throughput for Propius over client-side random choice;
here IRS gets ${rows[0].ratio.toFixed(2)}x on the paper workload's classes and ${rows[1].ratio.toFixed(2)}x on the two strictest,
the target not reached. A central policy binds on nearly every handshake; a random pick is
refused when the device may not serve the job it picked, or the job is full. The back-off is
what keeps the loss down: a device refused again and again waits up to 64 s between picks, so
the devices that can serve few jobs drop out of the queue and the control plane's handshakes go
mostly to devices that can bind. With only the strictest classes more devices are ineligible
for everything, back off the furthest and load the control plane least, which is why the loss
there is smaller, not larger. Where the slots rather than the handshakes limit (long tasks),
every policy binds alike.

${await liveFigures()}
`;
  await writeFile(`${out}.md`, md);
  await writeFile(`${out}.json`, `${JSON.stringify({ date, machine: machineLine(), seed, devices: DEVICES, jobs: JOBS, wallS, rows }, null, 1)}\n`);
  say(`wrote ${relative(process.cwd(), out)}.md and .json`);
}

/**
 * The same comparison live, under `wrangler dev`, as `npm run bench:load` last measured it
 * (docs/load-benchmark.json): IRS against client-random with the paper's back-off, over HTTP.
 */
async function liveFigures(): Promise<string> {
  type LoadRow = { devices: number; policy: string; transport: string; bindingsPerSecond: number; refusedPerBinding?: number; lanesBusy?: number | null };
  const load = await readFile(join(ROOT, "docs/load-benchmark.json"), "utf8").then((text) => JSON.parse(text) as { date: string; settings: { backoff?: { initialS: number; maxS: number } }; results: LoadRow[] }, () => null);
  const backoff = load?.settings.backoff;
  const pairs = (load?.results ?? [])
    .filter((r) => r.transport === "http" && r.policy === "irs")
    .map((irs) => ({ irs, random: load!.results.find((r) => r.transport === "http" && r.policy === "client-random" && r.devices === irs.devices) }))
    .filter((p): p is { irs: LoadRow; random: LoadRow } => p.random !== undefined && p.random.bindingsPerSecond > 0);
  if (!load || !backoff || pairs.length === 0) return "Live, under `wrangler dev`: run `npm run bench:load` (IRS and client-random with back-off side by side) for the figure.";
  const lines = pairs.map(({ irs, random }) =>
    `| ${irs.devices} | ${irs.bindingsPerSecond} | ${irs.refusedPerBinding ?? "-"} | ${random.bindingsPerSecond} | ${random.refusedPerBinding ?? "-"} | ${(irs.bindingsPerSecond / random.bindingsPerSecond).toFixed(2)}x | ${irs.lanesBusy == null ? "-" : `${Math.round(irs.lanesBusy * 100)} %`}, ${random.lanesBusy == null ? "-" : `${Math.round(random.lanesBusy * 100)} %`} |`);
  return [
    `Live, under \`wrangler dev\` (\`npm run bench:load\`, docs/load-benchmark.md, ${load.date.slice(0, 10)}): the paper workload's 20 jobs,`,
    `devices checking in over HTTP; under client-random a device whose check-in binds nothing backs off ${backoff.initialS} s, doubling to ${backoff.maxS} s.`,
    "Saturation is the HTTP lanes' busy share (a device was due whenever a request finished). Refused check-ins count offers and waits.",
    "",
    "| devices | IRS bindings/s | refused per binding | client-random bindings/s | refused per binding | IRS / client-random | lanes busy (IRS, random) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...lines,
    "",
    "Live, a central policy's refused handshakes are its waits: a device told to wait comes back when told, without the back-off",
    "that thins client-random's refused picks, so the two refused-per-binding columns are the comparison to read beside the ratio.",
  ].join("\n");
}
