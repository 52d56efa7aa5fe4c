// `npm run bench:privacy`: the demo's accuracy against the privacy it spends under central
// differential privacy (docs/robust-aggregation.md, "Central differential privacy"): the control
// plane under `wrangler dev` (fresh state), 8 in-process devices on the production task loop training
// the demo MLP for real; each update clipped to a fixed bound, Gaussian noise at the job, epsilon
// at delta 1e-5 from the job's own round records (RDP accountant, no amplification by sampling).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib/local-control-plane.js";
import { median } from "./lib/stats.js";
import { DEVICES, benchJobSpec, startBenchPlane } from "./lib/demo-bench-jobs.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:privacy -- [options]

  --rounds <n>   rounds of each job (default 5)
  --noise <list> comma-separated noise multipliers (default 0.1,0.5,2)
  --seed <n>     the demo's data split and the devices' shuffling (default 1)
  --out <path>   results: <path>.md and <path>.json (default docs/privacy-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" }, noise: { type: "string", default: "0.1,0.5,2" }, seed: { type: "string", default: "1" },
    out: { type: "string", default: join(ROOT, "docs/privacy-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [rounds, seed] = [args.rounds, args.seed].map(Number);
const levels = args.noise.split(",").map(Number);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seed) || seed < 0 || !levels.every((z) => z > 0 && z <= 100)) {
  process.stderr.write(`bench:privacy: --rounds takes a positive integer, --noise multipliers in (0, 100], --seed a whole number\n\n${HELP}`);
  process.exit(2);
}

const plane = await startBenchPlane(seed);
try {
  const uniform = { aggregation: { strategy: "fedavg" as const, weighting: "uniform" as const } };
  const norms: number[] = [];
  console.log("reference: FedAvg, updates weighed alike, no clipping, no noise");
  const reference = await plane.run(benchJobSpec("privacy-reference", rounds, uniform), { onNorm: (n) => norms.push(n) });
  const bound = median(norms);
  console.log(`  accuracy ${reference.accuracy.toFixed(4)}; honest delta norms median ${bound.toFixed(3)}: the fixed bound`);
  const clipping = { robustness: { clipping: { mode: "fixed" as const, norm: bound } } };
  const clipped = await plane.run(benchJobSpec("privacy-clipped", rounds, { ...uniform, ...clipping }));
  console.log(`clipped to ${bound.toFixed(3)}, no noise: accuracy ${clipped.accuracy.toFixed(4)}`);
  const rows = [];
  for (const z of levels) {
    const run = await plane.run(benchJobSpec(`privacy-z${z}`, rounds, { ...uniform, ...clipping, privacy: { noiseMultiplier: z, delta: 1e-5 } }));
    const last = run.closed.at(-1)?.privacy;
    const row = { noiseMultiplier: z, epsilon: last?.epsilon ?? null, delta: last?.delta ?? 1e-5, releases: last?.releases ?? 0, accuracy: run.accuracy, roundsClosed: run.roundsClosed, state: run.state, seconds: run.seconds };
    console.log(`noise multiplier ${z}: epsilon ${row.epsilon?.toFixed(2)} at delta 1e-5 after ${row.releases} rounds; accuracy ${run.accuracy.toFixed(4)}`);
    rows.push(row);
  }
  const date = new Date().toISOString();
  const machine = machineLine();
  await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, seed, rounds, devices: DEVICES, bound, reference: reference.accuracy, clipped: clipped.accuracy, rows }, null, 2)}\n`);
  const lines = [
    "# Central differential privacy: the demo's accuracy against epsilon",
    "",
    `Measured by \`npm run bench:privacy\` on ${date.slice(0, 10)}: ${machine}.`,
    `Each run is one job on the control plane under \`wrangler dev\` (fresh state): the demo MLP from its initial weights (test accuracy ${plane.initialAccuracy.toFixed(4)}), FedAvg with updates weighed alike, ${rounds} rounds of ${DEVICES} devices (2 local epochs, learning rate 0.4), the ${DEVICES} devices in the benchmark's process on the production task loop, training for real on the demo's non-IID shards (split seed ${seed}). ` +
      `Private runs clip every update to L2 norm ${bound.toFixed(3)} (the median honest norm of the reference run) and add Gaussian noise of standard deviation noise multiplier x ${bound.toFixed(3)} to each coordinate of the round's sum at the job; epsilon is the job's own figure in its last round's record.`,
    "",
    "| noise multiplier | epsilon at delta = 1e-5 | test accuracy |",
    "| ---: | ---: | ---: |",
    `| reference: no clipping, no noise | (not private) | ${reference.accuracy.toFixed(4)} |`,
    `| clipped, no noise | (not private) | ${clipped.accuracy.toFixed(4)} |`,
    ...rows.map((r) => `| ${r.noiseMultiplier} | ${r.epsilon === null ? "-" : r.epsilon.toFixed(2)} | ${r.accuracy.toFixed(4)}${r.state === "done" ? "" : ` (${r.roundsClosed}/${rounds} rounds, ${r.state})`} |`),
    "",
    `Epsilon is an upper bound from the RDP accountant (\`shared/src/privacy/rdp-accountant.ts\`) counting each of the ${rounds} rounds as a full release: no amplification by sampling is claimed, since a volunteer pool's rounds are not a uniform sample of a known population. ` +
      `With ${DEVICES} devices a round the noise on the mean update is noise multiplier x bound / ${DEVICES} per coordinate, against a mean delta of about bound / sqrt(101,770) per coordinate: a useful epsilon needs hundreds to thousands of devices a round (the noise on the mean falls as 1 / devices), which this benchmark does not have.`,
    "Devices shuffle with a generator seeded by device and round; the noise comes from WebCrypto, so runs differ.",
    "",
  ];
  await writeFile(`${args.out}.md`, lines.join("\n"));
  console.log(lines.join("\n"));
} finally {
  await plane.stop();
}
