// `npm run bench:secure`: the demo with secure aggregation on against the same job with it off
// (docs/secure-aggregation.md): the control plane under `wrangler dev` (fresh state), 8 in-process
// devices on the production task loop training the demo MLP for real, the same data split and
// shuffling in both runs. Prints and writes the final test accuracy of each, the bytes each device
// sent a round, and the rounds' times by phase.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { roundTimings, type JobSpecInput } from "@propius/shared";
import { ROOT } from "./lib/local-control-plane.js";
import { median } from "./lib/stats.js";
import { DEVICES, benchJobSpec, startBenchPlane, type BenchPlane } from "./lib/demo-bench-jobs.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:secure -- [options]

  --rounds <n>   rounds of each job (default 5)
  --seed <n>     the demo's data split and the devices' shuffling (default 1)
  --out <path>   results: <path>.md and <path>.json (default docs/secure-aggregation-benchmark)
`;
const { values: args } = parseArgs({
  options: { rounds: { type: "string", default: "5" }, seed: { type: "string", default: "1" }, out: { type: "string", default: join(ROOT, "docs/secure-aggregation-benchmark") }, help: { type: "boolean", short: "h" } },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [rounds, seed] = [args.rounds, args.seed].map(Number);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`bench:secure: --rounds takes a positive integer, --seed a whole number\n\n${HELP}`);
  process.exit(2);
}

/** One job, with what its devices sent: bytes per accepted update, and the rounds' times (s) by phase. */
async function measure(plane: BenchPlane, name: string, spec: JobSpecInput) {
  const sent: number[] = [];
  const run = await plane.run(spec, { onLoopEvent: (_device, event) => event.type === "uploaded" && sent.push(event.bytes) });
  const times = run.closed.map(roundTimings);
  const seconds = (pick: (t: (typeof times)[number]) => number | null) => Number(median(times.map(pick).filter((v): v is number => v !== null)).toFixed(2));
  const row = {
    name, accuracy: run.accuracy, state: run.state, roundsClosed: run.roundsClosed, updates: sent.length,
    bytesPerUpdate: Math.round(median(sent)), round: seconds((t) => t.total), selection: seconds((t) => t.selection), training: seconds((t) => t.training), aggregation: seconds((t) => t.aggregation), jobSeconds: run.seconds,
  };
  console.log(`${name}: accuracy ${row.accuracy.toFixed(4)} (${row.state}, ${row.roundsClosed}/${rounds} rounds); ${row.bytesPerUpdate} bytes sent per update; round ${row.round} s median (selection ${row.selection}, training ${row.training}, aggregation ${row.aggregation})`);
  return row;
}

const plane = await startBenchPlane(seed);
try {
  // Weighted by examples (capped at 10,000, the default) in both runs, as the demo is.
  const plain = await measure(plane, "secure aggregation off", benchJobSpec("secure-off", rounds));
  const secure = await measure(plane, "secure aggregation on", benchJobSpec("secure-on", rounds, { secureAggregation: {} }));
  const date = new Date().toISOString();
  const machine = machineLine();
  await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, seed, rounds, devices: DEVICES, initialAccuracy: plane.initialAccuracy, rows: [plain, secure] }, null, 2)}\n`);
  const gap = (secure.accuracy - plain.accuracy) * 100;
  const lines = [
    "# Secure aggregation: the demo with it on and off",
    "",
    `Measured by \`npm run bench:secure\` on ${date.slice(0, 10)}: ${machine}.`,
    `Each run is one job on the control plane under \`wrangler dev\` (fresh state): the demo MLP (101,770 parameters) from its initial weights (test accuracy ${plane.initialAccuracy.toFixed(4)}), FedAvg weighted by examples, ${rounds} rounds of ${DEVICES} devices (2 local epochs, learning rate 0.4), the devices in the benchmark's process on the production task loop, training for real on the demo's non-IID shards (split seed ${seed}, the same shuffling in both runs). ` +
      "With secure aggregation on (the spec's defaults: range 1, threshold 2/3, 15 s phases) the 8 devices of a round are one group at the job's one aggregator shard.",
    "",
    "| run | test accuracy | bytes sent per update | round (s, median) | selection | training | aggregation |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...[plain, secure].map((r) => `| ${r.name} | ${r.accuracy.toFixed(4)}${r.state === "done" ? "" : ` (${r.roundsClosed}/${rounds} rounds, ${r.state})`} | ${r.bytesPerUpdate.toLocaleString("en")} | ${r.round} | ${r.selection} | ${r.training} | ${r.aggregation} |`),
    "",
    `Accuracy with it on is ${gap >= 0 ? "+" : ""}${gap.toFixed(2)} points against off (the target: within 1 point). ` +
      "Bytes are what a device sent for one accepted update: off, the delta as a weights message (float32); on, its two public keys, a sealed pair of shares for each device of the group, the masked input (4 bytes for each parameter and the weight) and its revealed shares, as JSON and binary bodies. " +
      "With it on, the devices' training and the protocol's four phases both fall in the training column (the round is aggregating once the group's sum is counted), and the shard's unmasking (a PRG expansion of the model's length per device) in that column's end.",
    "",
  ];
  await writeFile(`${args.out}.md`, lines.join("\n"));
  console.log(lines.join("\n"));
} finally {
  await plane.stop();
}
