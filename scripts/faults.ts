// `npm run faults`: the control plane under `wrangler dev` on loopback, faulted while devices work:
// SIGKILLed mid-job, down for minutes, a third of a round's devices gone, a device that stalls
// mid-upload, an overflowing delta, and a long soak of simulated devices. Each scenario prints what
// the devices were told against what the job counts, rounds ended by their deadline and time to
// recover; the summary goes to docs/faults.md and .json.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildDeviceBundle, buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { warmDigits } from "./lib/demo-job.js";
import { ROOT } from "./lib/local-control-plane.js";
import { RestartablePlane } from "./lib/restartable-plane.js";
import { FAULT_SCENARIOS, parseFaultOptions, runScenario, type FaultOptions, type FaultScenario } from "./lib/fault-suite.js";
import { faultsReport, type FaultRun } from "./lib/fault-report.js";
import type { FaultResult } from "./lib/fault-scenario.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run faults -- [options]

  --scenario <a,b,...>    scenarios to run, in order (default: all): ${FAULT_SCENARIOS.join(", ")}
  --kills <n>             SIGKILLs of the control plane during the kills job (default 20)
  --kill-rounds <n>       rounds of the kills job (default 60)
  --outages <s,s,...>     outage lengths in seconds, one after another on one job (default 15,60,300)
  --browser <on|off>      a headless Chromium tab on the contribute page beside the Node devices in
                          the outages (default on)
  --dropout-rounds <n>    rounds of the dropout job (default 5)
  --read-timeout <s>      the upload read timeout (UPLOAD_IDLE_MS) the stall runs with and is measured
                          against (default 30, the control plane's own default)
  --soak-minutes <m>      how long the soak runs (default 30)
  --soak-devices <n>      simulated devices in the soak (default 10000)
  --soak-reference <on|off>  after the soak, the same traffic for as long to a one-line Worker, and
                          the soak's memory judged beyond that Worker's growth (default on)
  --seed <n>              seed of kill moments, drop-outs and data (default 1)
  --out <path>            results: <path>.md and <path>.json (default docs/faults)
  --keep                  keep the run's folder (event logs, wrangler's logs) and print where it is
`;

const { values: args } = parseArgs({
  options: {
    scenario: { type: "string", default: FAULT_SCENARIOS.join(",") }, kills: { type: "string", default: "20" }, "kill-rounds": { type: "string", default: "60" },
    outages: { type: "string", default: "15,60,300" }, browser: { type: "string", default: "on" }, "dropout-rounds": { type: "string", default: "5" },
    "read-timeout": { type: "string", default: "30" }, "soak-minutes": { type: "string", default: "30" }, "soak-devices": { type: "string", default: "10000" }, "soak-reference": { type: "string", default: "on" },
    seed: { type: "string", default: "1" }, out: { type: "string", default: join(ROOT, "docs/faults") }, keep: { type: "boolean" }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
let options: FaultOptions;
try {
  options = parseFaultOptions(args);
} catch (error) {
  process.stderr.write(`faults: ${(error as Error).message}\n\n${HELP}`);
  process.exit(2);
}

const ADMIN_KEY = "faults-admin-key";
const dir = await mkdtemp(join(tmpdir(), "propius-faults-"));
const cacheDir = join(dir, "cache");
const [script, deviceEntry] = await Promise.all([buildWorkerBundle(), buildDeviceBundle(), warmDigits(cacheDir)]);
await stopBundler();
const context = {
  startPlane: (vars: Record<string, string> = {}) => RestartablePlane.start({ script, adminKey: ADMIN_KEY, vars, name: "propius-faults" }),
  deviceEntry, cacheDir, workDir: dir, seed: options.seed,
  log: (line: string) => console.log(line),
};

const command = `npm run faults -- ${process.argv.slice(2).join(" ")}`.trim();
const results: FaultResult[] = [];
try {
  for (const name of options.scenarios) {
    console.log(`${name}:`);
    const started = Date.now();
    // A scenario that throws (a plane that would not start, a device that never reported) fails alone: the others still run.
    const result = await runScenario(name, context, options).catch((error: unknown): FaultResult => ({
      scenario: name, setup: "did not finish", passed: false, tally: null, rounds: null, recoverySeconds: [], detail: [`stopped by an error: ${(error as Error).stack ?? String(error)}`], figures: {},
    }));
    results.push({ ...result, ranAt: new Date(started).toISOString(), command });
    for (const line of result.detail) console.log(`  ${line}`);
    console.log(`  ${result.passed ? "PASS" : "FAIL"} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  if (args.keep) console.log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}

// Scenarios not run this time keep their results from the previous run's file, each with its own date.
const previous = await readFile(`${args.out}.json`, "utf8").then((text) => JSON.parse(text) as FaultRun, () => null);
const kept = (previous?.results ?? []).filter((r) => !options.scenarios.includes(r.scenario as FaultScenario)).map((r) => ({ ...r, ranAt: r.ranAt ?? previous!.date, command: r.command ?? previous!.command }));
const order = (r: FaultResult) => FAULT_SCENARIOS.indexOf(r.scenario as FaultScenario);
const all = [...kept, ...results].sort((a, b) => order(a) - order(b));
const machine = machineLine({ freeAtEnd: true });
const report = faultsReport({ date: new Date().toISOString(), machine, command, options, results: all });
console.log(`\n${report.table}`);
await writeFile(`${args.out}.json`, `${JSON.stringify(report.json, null, 2)}\n`);
await writeFile(`${args.out}.md`, report.markdown);
console.log(`wrote ${args.out}.md and ${args.out}.json`);
process.exit(results.every((r) => r.passed) ? 0 : 1);
