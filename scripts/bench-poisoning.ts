// `npm run bench:poisoning`: what one (or two) malicious devices of 8 do to the demo model, and what
// each of the job's defences (docs/robust-aggregation.md) leaves of it. The control plane is real
// (`wrangler dev`, fresh state); the 8 devices run in this process on the production task loop
// (push connection, download, train, upload) and train the demo MLP on their non-IID demo shards
// for real; a malicious device trains too, then scales, sign-flips or replaces its delta.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/local-control-plane.js";
import { median } from "./lib/stats.js";
import { ATTACKS, type Attack } from "./lib/poisoning-devices.js";
import { defences, type Defence } from "./lib/poisoning-defences.js";
import { DEVICES, benchJobSpec, startBenchPlane, type JobRun } from "./lib/demo-bench-jobs.js";
import { machineLine } from "./lib/machine.js";

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
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(attackers) || attackers < 1 || attackers > 3 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`bench:poisoning: --rounds takes a positive integer, --attackers 1 to 3, --seed a whole number\n\n${HELP}`);
  process.exit(2);
}

interface Run extends Omit<JobRun, "closed"> { defence: string; attack: Attack | "none"; lastBound: number | null }

const plane = await startBenchPlane(seed);
try {
  /** One job with `defence`, `attack` on the last `attackers` devices; the final model's test figures. */
  const run = async (defence: Defence, attack: Attack | "none", onNorm?: (norm: number) => void): Promise<Run> => {
    const spec = benchJobSpec(`poisoning-${defence.name}`, rounds, { robustness: defence.robustness });
    const { closed, ...result } = await plane.run(spec, { attack: attack === "none" ? undefined : attack, attackers, onNorm });
    const lastBound = closed.at(-1)?.clipping?.bound ?? null;
    console.log(`  ${defence.name.padEnd(22)} ${attack.padEnd(14)} accuracy ${result.accuracy.toFixed(4)}  rounds ${result.roundsClosed}/${rounds}  ${result.state}  ${result.seconds} s${lastBound === null ? "" : `  last round's norm bound ${lastBound.toFixed(3)}`}`);
    return { defence: defence.name, attack, ...result, lastBound };
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
  await report({ baseline, runs, chosen, fixedNorm, norms, initial: plane.initialAccuracy });
} finally {
  await plane.stop();
}

async function report(r: { baseline: Run; runs: Run[]; chosen: Defence[]; fixedNorm: number; norms: number[]; initial: number }): Promise<void> {
  const date = new Date().toISOString();
  const machine = machineLine();
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
      `The ${DEVICES} devices run in the benchmark's process on the production task loop (push connection, model download, upload) and train for real on the demo's non-IID shards (split seed ${seed}); ${attackers} of them ${attackers === 1 ? "is malicious: it trains" : "are malicious: each trains"} too, then sends its delta x1e3, or sign-flipped claiming 1e9 examples, or Gaussian noise in its place, every round. ` +
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
      "Every defence but \"none\" keeps at least the default cap of 10,000 examples. A run whose model was wrecked can stall (honest training from it diverges, and non-finite deltas are refused): it is stopped after 45 s without an update and its last model measured, as the table notes.",
    `The adaptive bound starts at 1 and moves by exp(+-0.5) a round at most; its last round's bound, by attack: ${attacks.map((a) => `${ATTACKS[a]} ${cell("norm-adaptive", a)?.lastBound?.toFixed(3) ?? "-"}`).join("; ")} (the honest norms' median: ${r.fixedNorm.toFixed(3)}).`,
    "Devices shuffle with a generator seeded by device and round; timings are of a shared 2-core machine.",
    ...(attackers === 1 ? ["", "Two attackers of 8: [poisoning-benchmark-2-attackers.md](poisoning-benchmark-2-attackers.md) (`npm run bench:poisoning -- --attackers 2 --out docs/poisoning-benchmark-2-attackers`)."] : []),
    "",
  ];
  await writeFile(`${args.out}.md`, lines.join("\n"));
  console.log(lines.join("\n"));
  console.log(`wrote ${args.out}.md and ${args.out}.json`);
}
