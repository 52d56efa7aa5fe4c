/**
 * `npm run workload`: writes a workload file of the simulator's schema (control/src/simulator/workload.ts)
 * whose scarcity, the median over jobs of eligible devices online per device of demand, is the one asked for.
 */
import { writeFile } from "node:fs/promises";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GENERATOR_DEFAULTS, generateWorkload, workloadSchema } from "../control/src/simulator/index.js";
import { ROOT } from "./lib/node-bundle.mjs";
import { defaultDataDir, readTraces } from "./lib/traces.js";

const defaultData = defaultDataDir();

const HELP = `npm run workload -- --devices <n> --jobs <n> --scarcity <s> --seed <n> [--out <file>]

  --devices <n>    devices the workload is for (its "clients")
  --jobs <n>       jobs, arriving as a Poisson process (30 min apart on average), the first at 0
  --scarcity <s>   median over jobs of (devices x online share x share meeting the job's public and
                   private constraints) / demand: 0.5 is twice the demand of what is online, 10 plenty
  --seed <n>       seed of the jobs' draws and of the devices the scarcity is measured on (those
                   \`npm run simulate -- --seed <n>\` simulates)
  --spread <x>     jobs' ratios spread log-uniformly within x either side of the median (default ${GENERATOR_DEFAULTS.spread})
  --rounds <a,b>   rounds per job, uniform in [a, b] (default ${GENERATOR_DEFAULTS.rounds.min},${GENERATOR_DEFAULTS.rounds.max})
  --data <dir>     device-specs.json and client-dataset-sizes.json (default ${relative(ROOT, defaultData)})
  --out <file>     where to write it (default: standard output)
  -h, --help       this help
`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${HELP}`);
  process.exit(2);
}

let parsedArgs;
try {
  parsedArgs = parseArgs({
    options: {
      devices: { type: "string" },
      jobs: { type: "string" },
      scarcity: { type: "string" },
      seed: { type: "string" },
      spread: { type: "string" },
      rounds: { type: "string" },
      data: { type: "string", default: defaultData },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  fail((error as Error).message);
}
const flags = parsedArgs.values;
if (flags.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function number(name: "devices" | "jobs" | "scarcity" | "seed", check: (v: number) => boolean, what: string): number {
  const raw = flags[name];
  if (raw === undefined) fail(`--${name} is required`);
  const value = Number(raw);
  if (!check(value)) fail(`--${name} must be ${what}, not '${raw}'`);
  return value;
}

const devices = number("devices", (v) => Number.isInteger(v) && v > 0, "a positive integer");
const jobs = number("jobs", (v) => Number.isInteger(v) && v > 0, "a positive integer");
const scarcity = number("scarcity", (v) => Number.isFinite(v) && v > 0, "a positive number");
const seed = number("seed", (v) => Number.isInteger(v) && v >= 0, "a non-negative integer");
const spread = flags.spread === undefined ? GENERATOR_DEFAULTS.spread : Number(flags.spread);
if (!Number.isFinite(spread) || spread < 1) fail(`--spread must be a number of at least 1, not '${flags.spread}'`);
const roundBounds = (flags.rounds ?? `${GENERATOR_DEFAULTS.rounds.min},${GENERATOR_DEFAULTS.rounds.max}`).split(",").map(Number);
const [minRounds, maxRounds = minRounds] = roundBounds;
if (roundBounds.length > 2 || !roundBounds.every((v) => Number.isInteger(v) && v > 0) || maxRounds < minRounds) fail(`--rounds must be min,max (positive integers, min <= max), not '${flags.rounds}'`);
const dataDir = resolve(flags.data!);
const say = (line: string) => process.stderr.write(`${line}\n`);

say(`generating ${jobs} jobs for ${devices} devices at scarcity ${scarcity}, seed ${seed}, from the traces in ${relative(process.cwd(), dataDir) || "."}`);
const traces = await readTraces(dataDir);
if ("missing" in traces) fail(`no device traces: ${traces.missing} is missing`);
const { deviceSpecs, datasetSizes } = traces;
const { workload, scarcity: measured } = generateWorkload({ devices, jobs, scarcity, seed, spread, rounds: { min: minRounds, max: maxRounds } }, deviceSpecs, datasetSizes);
const checked = workloadSchema.safeParse(workload);
if (!checked.success) throw new Error(`generated an invalid workload: ${checked.error.message}`);
for (const job of measured.jobs) {
  say(`  ${job.id}: demand ${job.demand}, ${(job.eligibleShare * 100).toFixed(1)} % eligible, ${job.eligibleOnline.toFixed(0)} online: ratio ${job.ratio.toFixed(2)}`);
}
say(`scarcity: median ${measured.median.toFixed(2)} (target ${scarcity}), min ${measured.min.toFixed(2)}`);
if (Math.abs(measured.median / scarcity - 1) > 0.1) say("  more than 10 % off the target: demands this small round coarsely; more devices get closer");

const text = `${JSON.stringify(checked.data, null, 1)}\n`;
if (flags.out === undefined || flags.out === "-") process.stdout.write(text);
else {
  await writeFile(resolve(flags.out), text);
  say(`wrote ${flags.out}`);
}
