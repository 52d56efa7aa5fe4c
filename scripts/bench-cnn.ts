// `npm run bench:cnn`: training throughput of the demo CNN (and, as a check, the demo MLP) with
// `trainLocal` on real MNIST digits, on tfjs' wasm backend (with the kernels that
// edge-runtime/src/training/wasm-kernels registers) and on the pure-JS cpu backend, in one Node
// process: samples per second and the ratio wasm / cpu, plus where a wasm CNN step spends its time.
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { demoCnnModel, demoModel, demoShard, mulberry32, type DemoModel } from "@propius/edge-runtime/demo";
import { gatherRows, initTraining, trainLocal, type LocalData, type LocalTrainingPlan } from "@propius/edge-runtime/training";
import * as tf from "@tensorflow/tfjs-core";
import { ROOT } from "./lib/local-control-plane.js";
import { median } from "./lib/stats.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:cnn -- [options]

  --digits <n>       training digits (default 1500)
  --batch <n>        batch size (default 32)
  --repeats <n>      timed runs per model and backend, the backends taking turns; the median
                     counts (default 5, after one warm-up run each)
  --wasm-steps <n>   batches per wasm run (default 20)
  --cpu-steps <n>    batches per cpu run of the CNN (default 1: tens of seconds per batch)
  --out <path>       results: <path>.md and <path>.json (default docs/cnn-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    digits: { type: "string", default: "1500" }, batch: { type: "string", default: "32" }, repeats: { type: "string", default: "5" },
    "wasm-steps": { type: "string", default: "20" }, "cpu-steps": { type: "string", default: "1" },
    out: { type: "string", default: join(ROOT, "docs/cnn-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [digits, batch, repeats, wasmSteps, cpuSteps] = [args.digits, args.batch, args.repeats, args["wasm-steps"], args["cpu-steps"]].map(Number);
if ([digits, batch, repeats, wasmSteps, cpuSteps].some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write(`bench:cnn: every option but --out takes a positive integer\n\n${HELP}`);
  process.exit(2);
}

const loadBefore = loadavg();
const shard = await demoShard({ index: 0, shards: 1, seed: 1, primaryFraction: 0.2 }); // every class alike
const count = Math.min(digits, shard.count);
const flat: LocalData = { ...gatherRows(shard, Array.from({ length: count }, (_, i) => i)), count, featureShape: [784], numClasses: 10 };
const images: LocalData = { ...flat, featureShape: [28, 28, 1] };

interface Case { model: string; backend: string; demo: DemoModel; data: LocalData; steps: number }
const cnn = demoCnnModel();
const mlp = demoModel();
// The MLP's cpu runs take as many batches as wasm's: it is fast enough on both.
const cases: Case[] = [
  { model: "CNN", backend: "wasm", demo: cnn, data: images, steps: wasmSteps },
  { model: "CNN", backend: "cpu", demo: cnn, data: images, steps: cpuSteps },
  { model: "MLP", backend: "wasm", demo: mlp, data: flat, steps: wasmSteps },
  { model: "MLP", backend: "cpu", demo: mlp, data: flat, steps: wasmSteps },
];
const plan = (steps: number): LocalTrainingPlan => ({ localSteps: steps, batchSize: batch, learningRate: 0.05, optimizer: "sgd", loss: "categoricalCrossentropy" });

/** Whole numbers from 100 up, three significant digits below (a cpu CNN run is under one sample per second). */
const rounded = (n: number) => (n >= 100 ? Math.round(n) : Number(n.toPrecision(3)));

async function run(c: Case, steps: number, seed: number): Promise<number> {
  await initTraining({ prefer: [c.backend] });
  const result = await trainLocal({ model: c.demo, weights: c.demo.initialWeights, data: c.data, plan: plan(steps), random: mulberry32(seed) });
  return result.samplesPerSecond;
}

for (const c of cases) {
  process.stdout.write(`warm-up: ${c.model} on ${c.backend} ...`);
  await run(c, 1, 0);
  console.log(" done");
}
const samples = cases.map(() => [] as number[]);
for (let r = 0; r < repeats; r++) {
  for (const [i, c] of cases.entries()) samples[i].push(await run(c, c.steps, r + 1));
  console.log(`run ${r + 1}/${repeats}: ${cases.map((c, i) => `${c.model} ${c.backend} ${rounded(samples[i][r])}`).join(", ")} samples/s`);
}

// Where one wasm CNN step spends its time, per kernel (tfjs' profiler times each kernel call).
await initTraining({ prefer: ["wasm"] });
const profile = await tf.profile(async () => {
  await trainLocal({ model: cnn, weights: cnn.initialWeights, data: images, plan: plan(1), random: mulberry32(9) });
});
const byKernel = new Map<string, number>();
for (const k of profile.kernels) byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + Number(k.kernelTimeMs));
const kernelMs = [...byKernel].sort((a, b) => b[1] - a[1]);
const totalKernelMs = kernelMs.reduce((s, [, ms]) => s + ms, 0);
const topKernels = kernelMs.slice(0, 8).map(([kernel, ms]) => ({ kernel, ms: Number(ms.toFixed(1)), share: Number((ms / totalKernelMs).toFixed(3)) }));

const rows = cases.map((c, i) => ({
  model: c.model, backend: c.backend, parameters: c.demo.initialWeights.length, stepsPerRun: c.steps,
  samplesPerSecond: rounded(median(samples[i])), min: rounded(Math.min(...samples[i])), max: rounded(Math.max(...samples[i])),
}));
const ratio = (model: string) => {
  const [wasm, cpu] = ["wasm", "cpu"].map((b) => median(samples[cases.findIndex((c) => c.model === model && c.backend === b)]));
  return wasm / cpu;
};
const ratios = { CNN: rounded(ratio("CNN")), MLP: rounded(ratio("MLP")) };
for (const r of rows) console.log(`${r.model} on ${r.backend}: ${r.samplesPerSecond} samples/s (runs ${r.min}-${r.max})`);
console.log(`wasm / cpu: CNN ${ratios.CNN}x, MLP ${ratios.MLP}x`);
console.log(`a wasm CNN step (batch ${batch}): ${topKernels.map((k) => `${k.kernel} ${k.ms} ms`).join(", ")}`);

const date = new Date().toISOString();
const machine = machineLine();
await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, loadBefore, digits: count, batch, repeats, rows, ratios, wasmCnnStepKernels: topKernels, wasmCnnStepKernelMs: Number(totalKernelMs.toFixed(1)) }, null, 2)}\n`);
const fmt = (n: number) => n.toLocaleString("en");
await writeFile(`${args.out}.md`, [
  "# Training a CNN on the wasm and cpu backends",
  "",
  `Measured by \`npm run bench:cnn\` on ${date.slice(0, 10)}: ${machine}, all in one Node process.`,
  `\`trainLocal\` (sgd, batch ${batch}) on ${fmt(count)} real MNIST digits from their starting weights: the demo CNN`,
  `(28x28x1 -> Conv2D 16 3x3 -> Conv2D 32 3x3 -> MaxPooling2D 3x3 -> Dropout -> Flatten -> Dense 24 -> Dense 10, ${fmt(cnn.initialWeights.length)} parameters)`,
  `and, as a check, the demo MLP (784-128-10, ${fmt(mlp.initialWeights.length)} parameters), whose step runs none of the registered kernels (no convolution, no pooling).`,
  `The wasm backend is tfjs-backend-wasm 4.22 with the kernels of \`edge-runtime/src/training/wasm-kernels\` registered;`,
  "cpu is tfjs-backend-cpu 4.22 (pure JavaScript).",
  `Each figure is the median of ${repeats} runs (min-max in brackets) after one warm-up run; the backends take turns run by run, so that other work on a shared machine weighs on each alike.`,
  `A cpu run of the CNN is ${cpuSteps} batch(es): each takes tens of seconds there.`,
  `Load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(", ")}; figures from a busy machine are lower and noisier.`,
  "",
  "| model | backend | batches per run | samples/s | wasm / cpu |",
  "| --- | --- | ---: | ---: | ---: |",
  ...rows.map((r) => `| ${r.model} | ${r.backend} | ${r.stepsPerRun} | ${fmt(r.samplesPerSecond)} (${fmt(r.min)}-${fmt(r.max)}) | ${r.backend === "wasm" ? `${ratios[r.model as "CNN" | "MLP"]}x` : ""} |`),
  "",
  `Where one wasm training step of the CNN spends its kernel time (tfjs' profiler, ${totalKernelMs.toFixed(0)} ms of kernels in all):`,
  "",
  "| kernel | ms | share |",
  "| --- | ---: | ---: |",
  ...topKernels.map((k) => `| ${k.kernel} | ${k.ms} | ${(k.share * 100).toFixed(0)}% |`),
  "",
].join("\n"));
