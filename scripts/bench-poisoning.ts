// `npm run bench:poisoning`: what one (or two) malicious devices of 8 do to the demo model, and what
// each of the job's defences (docs/robust-aggregation.md) leaves of it. The control plane is real
// (`wrangler dev`, fresh state); the 8 devices run in this process on the production task loop
// (push connection, download, train, upload) and train the demo MLP on their non-IID demo shards
// for real; a malicious device trains too, then scales, sign-flips or replaces its delta.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { OwnerClient } from "@propius/edge-runtime";
import { demoModel, demoTestSet, loadDigits } from "@propius/edge-runtime/demo";
import { evaluate, initTraining } from "@propius/edge-runtime/training";
import type { JobSpecInput, JobStatus } from "@propius/shared";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { ensureDevVars } from "./lib/local-secrets.js";
import { freePort } from "./lib/ports.js";
import { median } from "./lib/stats.js";
import { ATTACKS, enrolDevices, runDevices, type Attack } from "./lib/poisoning-devices.js";
import { defences, type Defence } from "./lib/poisoning-defences.js";

const HELP = `npm run bench:poisoning -- [options]

  --rounds <n>      rounds of each job (default 5)
  --attackers <n>   malicious devices of the 8 (default 1)
  --seed <n>        the demo's data split and the devices' shuffling (default 1)
  --only <names>    comma-separated defences to run (default all)
  --out <path>      results: <path>.md and <path>.json (default docs/poisoning-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" }, attackers: { type: "string", default: "1" }, seed: { type: "string", default: "1" },
    only: { type: "string" }, out: { type: "string", default: join(ROOT, "docs/poisoning-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [rounds, attackers, seed] = [args.rounds, args.attackers, args.seed].map(Number);
const DEVICES = 8;
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(attackers) || attackers < 1 || attackers > 3 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`bench:poisoning: --rounds takes a positive integer, --attackers 1 to 3, --seed a whole number\n\n${HELP}`);
  process.exit(2);
}

/** The demo MLP, plain FedAvg, `DEVICES` devices a round, 2 local epochs at the demo's learning rate, with `robustness`. */
function jobSpec(name: string, robustness: Defence["robustness"]): JobSpecInput {
  const model = demoModel();
  return {
    name: `poisoning-${name}`,
    model: { format: "tfjs-layers", topology: model.topology, weightSpecs: model.weightSpecs },
    plan: { rounds, clientsPerRound: DEVICES, overCommit: 1, minReportFraction: 1, roundDeadlineSeconds: 120, localEpochs: 2, batchSize: 32, learningRate: 0.4, validationSplit: 0 },
    aggregation: { strategy: "fedavg" },
    robustness,
    input: { kind: "image", width: 28, height: 28, channels: 1, classes: 10 },
  };
}

interface Run { defence: string; attack: Attack | "none"; accuracy: number; loss: number; roundsClosed: number; state: string; seconds: number }

const dir = await mkdtemp(join(tmpdir(), "propius-poisoning-"));
const devVars = join(dir, "dev.vars");
const { adminKey } = await ensureDevVars(devVars);
const script = await buildWorkerBundle();
await stopBundler();
console.log("starting the control plane (wrangler dev, fresh state) ...");
const controlPlane = await startControlPlane({ port: await freePort(), script, persistTo: join(dir, "state"), envFile: devVars, logFile: join(dir, "wrangler.log") });
try {
  await initTraining({ prefer: ["wasm"] });
  await loadDigits();
  const test = await demoTestSet();
  const { apiKey } = await OwnerClient.createTenant({ baseUrl: controlPlane.url, adminKey, name: "poisoning" });
  const owner = new OwnerClient({ baseUrl: controlPlane.url, apiKey });
  const devices = await enrolDevices(controlPlane.url, DEVICES, seed);
  const initial = await evaluate({ model: jobSpec("x", {}).model, weights: demoModel().initialWeights, data: test });
  console.log(`${DEVICES} devices enrolled; the initial model's test accuracy ${initial.accuracy.toFixed(4)}`);

  /** One job from the demo's initial model with `defence`, `attack` on the last `attackers` devices; the final model's test figures. */
  const run = async (defence: Defence, attack: Attack | "none", onNorm?: (norm: number) => void): Promise<Run> => {
    const started = performance.now();
    const spec = jobSpec(defence.name, defence.robustness);
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, demoModel().initialWeights);
    devices.forEach((d) => (d.attack = attack !== "none" && d.index >= DEVICES - attackers ? attack : null));
    const stop = new AbortController();
    const running = runDevices(devices, { tasks: rounds, seed, signal: stop.signal, onNorm, onEvent: (i, line) => console.log(`    device ${i}: ${line}`) });
    // A poisoned model can make honest training diverge (non-finite deltas are refused): a run whose
    // updates stop coming ends after 45 s without one.
    let status: JobStatus = job;
    let progress = "";
    let progressAt = Date.now();
    while (status.state === "running" && Date.now() - progressAt < 45_000) {
      await new Promise((r) => setTimeout(r, 500));
      status = await owner.status(job.id);
      const now = status.rounds.map((x) => `${x.round}/${x.attempt}:${x.reported}:${x.status}`).join(",");
      if (now !== progress) [progress, progressAt] = [now, Date.now()];
    }
    if (status.state === "running") status = await owner.cancel(job.id);
    stop.abort();
    await running;
    const weights = await owner.weights(job.id, status.modelHash ?? undefined);
    const result = await evaluate({ model: spec.model, weights, data: test });
    const roundsClosed = status.rounds.filter((r) => r.status === "closed").length;
    const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
    console.log(`  ${defence.name.padEnd(14)} ${attack.padEnd(14)} accuracy ${result.accuracy.toFixed(4)}  rounds ${roundsClosed}/${rounds}  ${status.state}  ${seconds} s`);
    return { defence: defence.name, attack, accuracy: result.accuracy, loss: result.loss, roundsClosed, state: status.state, seconds };
  };

  const norms: number[] = [];
  const fedavg: Defence = { name: "fedavg", label: "FedAvg, no attacker", robustness: {} };
  console.log("baseline: FedAvg, no attacker");
  const baseline = await run(fedavg, "none", (n) => norms.push(n));
  const fixedNorm = median(norms);
  console.log(`honest delta norms: median ${fixedNorm.toFixed(3)} (min ${Math.min(...norms).toFixed(3)}, max ${Math.max(...norms).toFixed(3)}): the fixed bound`);
  const only = args.only?.split(",");
  const chosen = defences(attackers, DEVICES, fixedNorm).filter((d) => !only || only.includes(d.name));
  const runs: Run[] = [baseline];
  for (const attack of Object.keys(ATTACKS) as Attack[]) {
    console.log(`attack: ${ATTACKS[attack]}, ${attackers} of ${DEVICES} devices`);
    for (const defence of chosen) runs.push(await run(defence, attack));
  }
  await report({ baseline, runs, chosen, fixedNorm, norms, initial: initial.accuracy });
} finally {
  await controlPlane.stop();
  await rm(dir, { recursive: true, force: true });
}

async function report(r: { baseline: Run; runs: Run[]; chosen: Defence[]; fixedNorm: number; norms: number[]; initial: number }): Promise<void> {
  const date = new Date().toISOString();
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const attacks = Object.keys(ATTACKS) as Attack[];
  const cell = (defence: string, attack: Attack) => r.runs.find((x) => x.defence === defence && x.attack === attack);
  const fmt = (x: Run | undefined) => (x ? `${x.accuracy.toFixed(4)} (${(100 * (x.accuracy - r.baseline.accuracy)).toFixed(1)})${x.state === "done" ? "" : ` ${x.roundsClosed}/${rounds} rounds, ${x.state}`}` : "-");
  const best = attacks.map((attack) => {
    const defended = r.chosen.filter((d) => d.name !== "none").map((d) => cell(d.name, attack)!).sort((a, b) => b.accuracy - a.accuracy)[0];
    return { attack, defence: defended.defence, accuracy: defended.accuracy, within2Points: r.baseline.accuracy - defended.accuracy <= 0.02 };
  });
  const totalSeconds = r.runs.reduce((s, x) => s + x.seconds, 0);
  await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, seed, rounds, devices: DEVICES, attackers, initialAccuracy: r.initial, fixedNorm: r.fixedNorm, honestNorms: r.norms, baseline: r.baseline, runs: r.runs, best }, null, 2)}\n`);
  const lines = [
    "# Poisoning: the demo model under attack, with each defence",
    "",
    `Measured by \`npm run bench:poisoning${attackers === 1 ? "" : ` -- --attackers ${attackers}`}\` on ${date.slice(0, 10)}: ${machine}; ${(totalSeconds / 60).toFixed(1)} minutes of runs.`,
    `Each run is one job on the control plane under \`wrangler dev\` (fresh state): the demo MLP from its initial weights (test accuracy ${r.initial.toFixed(4)}), plain FedAvg, ${rounds} rounds of ${DEVICES} devices, 2 local epochs at learning rate 0.4, batch 32. ` +
      `The ${DEVICES} devices run in the benchmark's process on the production task loop (push connection, model download, upload) and train for real on the demo's non-IID shards (split seed ${seed}); ${attackers} of them ${attackers === 1 ? "is" : "are"} malicious: it trains too, then sends its delta x1e3, or sign-flipped claiming 1e9 examples, or Gaussian noise in its place, every round. ` +
      "The figure is the final model's accuracy on the 2,000 test digits, and in brackets its difference in points from FedAvg with no attacker.",
    "",
    `FedAvg with no attacker: **${r.baseline.accuracy.toFixed(4)}**.`,
    "",
    `| defence | ${attacks.map((a) => ATTACKS[a]).join(" | ")} |`,
    `| --- | ${attacks.map(() => "---:").join(" | ")} |`,
    ...r.chosen.map((d) => `| ${d.label} | ${attacks.map((a) => fmt(cell(d.name, a))).join(" | ")} |`),
    "",
    "Best defence per attack, against the acceptance point (within 2 points of FedAvg with no attacker):",
    "",
    ...best.map((b) => `- ${ATTACKS[b.attack]}: ${r.chosen.find((d) => d.name === b.defence)!.label}, ${b.accuracy.toFixed(4)}: ${b.within2Points ? "within 2 points" : "**not** within 2 points"}.`),
    "",
    `The fixed norm bound is the median L2 norm of the honest deltas of the no-attacker run (${r.norms.length} deltas, ${Math.min(...r.norms).toFixed(3)} to ${Math.max(...r.norms).toFixed(3)}). ` +
      "Every defence but \"none\" keeps the default cap of 10,000 examples. A run whose model was wrecked can stall (honest training from it diverges, and non-finite deltas are refused): it is stopped after 45 s without an update and its last model measured, as the table notes.",
    "Devices shuffle with a generator seeded by device and round; timings are of a shared 2-core machine.",
    "",
  ];
  await writeFile(`${args.out}.md`, lines.join("\n"));
  console.log(lines.join("\n"));
  console.log(`wrote ${args.out}.md and ${args.out}.json`);
}
