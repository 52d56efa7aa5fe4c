/**
 * `npm run sweep`: generates workloads over a grid of scarcity levels and seeds, runs every
 * scheduling policy on each (control/src/simulator/sweep.ts), and writes docs/scheduling-sweep.md,
 * .json and .svg. Workloads run in parallel worker threads, one per core by default.
 */
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { POLICY_NAMES, isPolicyName, type PolicyName } from "../control/src/scheduling/policies/index.js";
import {
  DEFAULT_SWEEP,
  contendedLine,
  notesOf,
  outcomes,
  runCell,
  summarizeContended,
  summarizeLevels,
  sweepCells,
  sweepChart,
  sweepJson,
  sweepMarkdown,
  type CellProgress,
  type CellResult,
  type SweepCell,
  type SweepOptions,
  type Traces,
} from "../control/src/simulator/index.js";
import { ROOT } from "./lib/node-bundle.mjs";
import { TRACE_FILES, defaultDataDir, readTraces } from "./lib/traces.js";
import { machineLine } from "./lib/machine.js";

const defaultData = defaultDataDir();

const HELP = `npm run sweep -- [options]

  --levels <a,b,...>     scarcity levels: median eligible devices online per device of demand (default ${DEFAULT_SWEEP.levels.join(",")})
  --seeds <a,b,...>      seeds: one workload per level and seed (default ${DEFAULT_SWEEP.seeds.join(",")})
  --policies <a,b,...>   policies to run (default: all: ${POLICY_NAMES.join(", ")})
  --devices <n>          devices per workload (default ${DEFAULT_SWEEP.devices})
  --jobs <n>             jobs per workload (default ${DEFAULT_SWEEP.jobs})
  --spread <x>           jobs' ratios spread log-uniformly within x either side of the level (default ${DEFAULT_SWEEP.spread})
  --rounds <min,max>     rounds per job, uniform (default ${DEFAULT_SWEEP.rounds.min},${DEFAULT_SWEEP.rounds.max})
  --parallel <n>         workloads run at once, one per worker thread (default: the cores, ${availableParallelism()})
  --data <dir>           device-specs.json and client-dataset-sizes.json (default ${relative(ROOT, defaultData)})
  --out <path>           <path>.md, .svg and .json (default docs/scheduling-sweep; "-" writes nothing)
  -h, --help             this help
`;

interface WorkerInput {
  options: SweepOptions;
  dataDir: string;
}
type WorkerMessage = { kind: "line"; line: string } | { kind: "result"; result: CellResult };

const label = (cell: SweepCell) => `[scarcity ${cell.level}, seed ${cell.seed}]`;

function progressLine(p: CellProgress): string {
  const name = `${label(p.cell)} ${p.policy}${p.admission ? "" : " (admission off)"}`;
  if (p.kind === "running") {
    const { simulatedS, roundsDone, roundsTotal, jobsDone, jobsTotal } = p.progress;
    return `  ${name}: ${(simulatedS / 3600).toFixed(1)} h simulated, rounds ${roundsDone}/${roundsTotal}, jobs done ${jobsDone}/${jobsTotal}`;
  }
  const r = p.result;
  const wasted = (r.wastedDeviceS / 3600).toFixed(0);
  return `${name}: ${r.wallTimeS.toFixed(1)} s, jobs completed / waiting / stalled / failed / running ${outcomes(r)}, utilization ${r.utilization.toFixed(3)}, wasted ${wasted} device-h`;
}

/** A worker thread: runs the cells it is sent and posts its progress and results. */
async function work(): Promise<void> {
  const { options, dataDir } = workerData as WorkerInput;
  const traces = await tracesIn(dataDir);
  const port = parentPort!;
  port.on("message", (cell: SweepCell | null) => {
    if (cell === null) return port.close();
    const result = runCell(cell, options, traces, (p) => port.postMessage({ kind: "line", line: progressLine(p) } satisfies WorkerMessage));
    port.postMessage({ kind: "result", result } satisfies WorkerMessage);
  });
}

async function tracesIn(dataDir: string): Promise<Traces> {
  const traces = await readTraces(dataDir);
  if ("missing" in traces) throw new Error(`no ${traces.missing}`);
  return traces;
}

/** Runs the cells on `parallel` worker threads, handing each the next cell when it finishes one; results in cell order. */
function runAll(cells: SweepCell[], input: WorkerInput, parallel: number, say: (line: string) => void): Promise<CellResult[]> {
  const results = new Map<SweepCell, CellResult>();
  let next = 0;
  const started = performance.now();
  const thread = () =>
    new Promise<void>((done, failed) => {
      const worker = new Worker(new URL(import.meta.url), { workerData: input });
      let current: SweepCell | null = null;
      const feed = () => {
        current = next < cells.length ? cells[next++] : null;
        worker.postMessage(current);
      };
      worker.on("message", (m: WorkerMessage) => {
        if (m.kind === "line") return say(m.line);
        results.set(current!, m.result);
        say(`${label(current!)} done: ${results.size} of ${cells.length} workloads after ${((performance.now() - started) / 1000).toFixed(0)} s`);
        feed();
      });
      worker.on("error", failed);
      worker.on("exit", (code) => (code === 0 && current === null ? done() : failed(new Error(`a sweep worker exited with code ${code}`))));
      feed();
    });
  return Promise.all(Array.from({ length: Math.min(parallel, cells.length) }, thread)).then(() => cells.map((c) => results.get(c)!));
}

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

function list(raw: string, name: string, check: (v: number) => boolean, what: string): number[] {
  const values = raw.split(",").map((v) => v.trim()).filter(Boolean).map(Number);
  if (values.length === 0 || !values.every(check)) fail(`--${name} must be a comma-separated list of ${what}`);
  return [...new Set(values)];
}

function positiveInteger(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) fail(`--${name} must be a positive integer, not '${raw}'`);
  return value;
}

function spreadOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_SWEEP.spread;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 1) fail(`--spread must be a number of at least 1, not '${raw}'`);
  return value;
}

function roundsOf(raw: string | undefined): SweepOptions["rounds"] {
  if (raw === undefined) return DEFAULT_SWEEP.rounds;
  const values = list(raw, "rounds", (v) => Number.isInteger(v) && v > 0, "one or two positive integers");
  const [min, max = min] = values;
  if (values.length > 2 || max < min) fail(`--rounds must be min,max with min <= max, not '${raw}'`);
  return { min, max };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        levels: { type: "string", default: DEFAULT_SWEEP.levels.join(",") },
        seeds: { type: "string", default: DEFAULT_SWEEP.seeds.join(",") },
        policies: { type: "string", default: POLICY_NAMES.join(",") },
        devices: { type: "string" },
        jobs: { type: "string" },
        spread: { type: "string" },
        rounds: { type: "string" },
        parallel: { type: "string" },
        data: { type: "string", default: defaultData },
        out: { type: "string", default: "docs/scheduling-sweep" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(HELP);
    return;
  }
  const policies = flags.policies!.split(",").map((p) => p.trim()).filter(Boolean);
  for (const p of policies) if (!isPolicyName(p)) fail(`unknown policy '${p}'`);
  const options: SweepOptions = {
    ...DEFAULT_SWEEP,
    levels: list(flags.levels!, "levels", (v) => Number.isFinite(v) && v > 0, "positive numbers"),
    seeds: list(flags.seeds!, "seeds", (v) => Number.isInteger(v) && v >= 0, "non-negative integers"),
    policies: policies as PolicyName[],
    devices: positiveInteger(flags.devices, "devices", DEFAULT_SWEEP.devices),
    jobs: positiveInteger(flags.jobs, "jobs", DEFAULT_SWEEP.jobs),
    spread: spreadOf(flags.spread),
    rounds: roundsOf(flags.rounds),
  };
  const parallel = positiveInteger(flags.parallel, "parallel", availableParallelism());
  const dataDir = resolve(flags.data!);
  for (const file of TRACE_FILES) if (!existsSync(join(dataDir, file))) fail(`no ${file} in ${dataDir}`);

  const say = (line: string) => process.stdout.write(`${line}\n`);
  const cells = sweepCells(options);
  say(
    `sweep: ${cells.length} workloads (scarcity ${options.levels.join(", ")} x seeds ${options.seeds.join(", ")}), ${options.devices} devices and ${options.jobs} jobs each, ` +
      `${policies.length} policies plus the best central one without admission, ${Math.min(parallel, cells.length)} at a time`,
  );
  const started = performance.now();
  const results = await runAll(cells, { options, dataDir }, parallel, say);
  const totalWallS = (performance.now() - started) / 1000;
  const levels = summarizeLevels(results);
  const ratio = (v: number | null) => (v === null ? "-" : `${v.toFixed(2)}x`);
  const hours = (s: number) => (s / 3600).toFixed(0);
  for (const l of levels) {
    say(
      `scarcity ${l.level}: utilization best / static ${ratio(l.utilization.geoMean)}, average JCT FIFO / best ${ratio(l.avgJct.geoMean)}, ` +
        `p95 ${ratio(l.p95Jct.geoMean)}, wasted device-h with / without admission ${hours(l.wastedWithAdmissionS)} / ${hours(l.wastedWithoutAdmissionS)}`,
    );
  }
  say(contendedLine(summarizeContended(results)));
  say(`total wall time ${totalWallS.toFixed(1)} s`);
  if (flags.out === "-") return;

  const out = resolve(ROOT, flags.out!);
  const machine = machineLine();
  const date = new Date().toISOString().slice(0, 10);
  const command = `npm run sweep${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const previous = existsSync(`${out}.md`) ? await readFile(`${out}.md`, "utf8") : null;
  await writeFile(`${out}.md`, sweepMarkdown({ cells: results, options, command, machine, date, totalWallS, notes: notesOf(previous) }));
  await writeFile(`${out}.svg`, sweepChart(levels));
  await writeFile(`${out}.json`, sweepJson({ command, date, machine, options, totalWallS, levels, cells: results }));
  say(`wrote ${relative(process.cwd(), out)}.md, .svg and .json`);
}

if (isMainThread) await main();
else await work();
