// `npm run bench:onnx`: the demo model exported to ONNX: export time and file size, then inference
// throughput on the held-out digits in ONNX Runtime Web (wasm, one thread) against tfjs (wasm and
// cpu backends) in this Node process, with the test accuracy of each as a check.
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { demoModel, demoShard, demoTestSet, mulberry32 } from "@propius/edge-runtime/demo";
import { createOnnxSession, evaluateOnnx, exportOnnx, predictOnnx } from "@propius/edge-runtime/onnx";
import { buildModel, evaluate, initTraining, labelIndices, trainLocal } from "@propius/edge-runtime/training";
import * as tf from "@tensorflow/tfjs-core";
import { encodeWeights } from "@propius/shared";
import { ROOT } from "./lib/local-control-plane.js";
import { median } from "./lib/stats.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:onnx -- [options]

  --batches <n,n,...>  samples per inference call (default 1,32,500)
  --seconds <s>        time per engine and batch size, in 5 runs (the engines taking turns) of
                       at least one pass over the digits each; the median run counts (default 2)
  --out <path>         results: <path>.md and <path>.json (default docs/onnx-benchmark)
`;
const { values: args } = parseArgs({
  options: {
    batches: { type: "string", default: "1,32,500" }, seconds: { type: "string", default: "2" },
    out: { type: "string", default: join(ROOT, "docs/onnx-benchmark") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const batches = args.batches.split(",").map(Number);
const seconds = Number(args.seconds);
if (batches.some((n) => !Number.isInteger(n) || n < 1) || !(seconds > 0)) {
  process.stderr.write(`bench:onnx: --batches takes positive integers, --seconds a positive number\n\n${HELP}`);
  process.exit(2);
}

const loadBefore = loadavg();

// A trained model, so that the accuracies mean something: one epoch on the training digits.
const { topology, weightSpecs, initialWeights } = demoModel();
const source = { topology, weightSpecs };
await initTraining({ prefer: ["wasm"] });
const plan = { localEpochs: 1, batchSize: 32, learningRate: 0.1, optimizer: "sgd" as const, loss: "categoricalCrossentropy" as const };
const train = await demoShard({ index: 0, shards: 1, seed: 1, primaryFraction: 0.2 }); // every class alike
const { delta } = await trainLocal({ model: source, weights: initialWeights, data: train, plan, random: mulberry32(1) });
const weights = initialWeights.map((w, i) => w + delta[i]);
const test = await demoTestSet();
const labels = labelIndices(test);

exportOnnx(source, weights); // warm-up
const exportTimes = Array.from({ length: 20 }, () => {
  const started = performance.now();
  exportOnnx(source, weights);
  return performance.now() - started;
});
const onnx = exportOnnx(source, weights);
const weightsMessage = encodeWeights({ kind: "model", codec: "fp32", tensors: weightSpecs }, weights).length;
let started = performance.now();
const session = await createOnnxSession(onnx);
const sessionMs = performance.now() - started;
started = performance.now();
await (await createOnnxSession(onnx)).release();
const secondSessionMs = performance.now() - started;
console.log(`export: ${median(exportTimes).toFixed(2)} ms, ${onnx.length.toLocaleString("en")} bytes (weights message ${weightsMessage.toLocaleString("en")}); sessions ${sessionMs.toFixed(0)} ms, then ${secondSessionMs.toFixed(0)} ms`);

/**
 * Runs per cell. The engines take turns run by run and the median run counts, so that other work
 * on a shared machine weighs on every engine alike and a passing burst drops out.
 */
const RUNS = 5;

type Predict = (x: Float32Array, n: number) => Promise<unknown>;

/** Samples per second of `predict` over the test digits in batches of `batch`, for at least `millis` (and one pass). */
async function samplesPerSecond(batch: number, predict: Predict, millis: number): Promise<number> {
  const size = test.x.length / test.count;
  await predict(test.x.subarray(0, Math.min(batch, test.count) * size), Math.min(batch, test.count)); // warm-up
  let samples = 0;
  const begin = performance.now();
  do {
    for (let start = 0; start < test.count; start += batch) {
      const n = Math.min(batch, test.count - start);
      await predict(test.x.subarray(start * size, (start + n) * size), n);
      samples += n;
    }
  } while (performance.now() - begin < millis);
  return samples / ((performance.now() - begin) / 1000);
}

interface Engine { engine: string; accuracy: number; activate: () => Promise<unknown>; predict: Predict }
const engines: Engine[] = [
  { engine: "ONNX Runtime Web 1.30 (wasm, 1 thread)", accuracy: (await evaluateOnnx(session, test.x, labels, test.count)).accuracy, activate: async () => {}, predict: (x) => predictOnnx(session, x) },
];
const models: { dispose(): void }[] = [];
for (const backend of ["wasm", "cpu"]) {
  const activate = () => initTraining({ prefer: [backend] });
  await activate();
  const model = await buildModel(source, weights); // its weights live on this backend
  models.push(model);
  const predict: Predict = async (x, n) => {
    const output = tf.tidy(() => model.predict(tf.tensor2d(x, [n, x.length / n])) as tf.Tensor);
    await output.data();
    output.dispose();
  };
  engines.push({ engine: `tfjs 4.22 (${backend})`, accuracy: (await evaluate({ model: source, weights, data: test })).accuracy, activate, predict });
}
const runs = engines.map(() => batches.map(() => [] as number[]));
for (let run = 0; run < RUNS; run++) {
  for (const [e, engine] of engines.entries()) {
    await engine.activate();
    for (const [b, batch] of batches.entries()) runs[e][b].push(await samplesPerSecond(batch, engine.predict, (seconds * 1000) / RUNS));
  }
}
await session.release();
models.forEach((m) => m.dispose());
const rows = engines.map((e, i) => ({ engine: e.engine, accuracy: e.accuracy, samplesPerSecond: Object.fromEntries(batches.map((b, j) => [b, median(runs[i][j])])) }));
for (const e of rows) console.log(`${e.engine}: accuracy ${e.accuracy.toFixed(4)}; samples/s ${batches.map((b) => `batch ${b}: ${Math.round(e.samplesPerSecond[b])}`).join(", ")}`);

const machine = machineLine();
const exportMs = Number(median(exportTimes).toFixed(2));
await writeFile(`${args.out}.json`, `${JSON.stringify({ date: new Date().toISOString(), machine, loadBefore, trainDigits: train.count, exportMs, onnxBytes: onnx.length, weightsMessageBytes: weightsMessage, sessionMs: Math.round(sessionMs), secondSessionMs: Math.round(secondSessionMs), testDigits: test.count, runs: RUNS, rows }, null, 2)}\n`);
const base = rows[1];
await writeFile(`${args.out}.md`, [
  "# The demo model in ONNX Runtime Web",
  "",
  `Measured by \`npm run bench:onnx\` on ${new Date().toISOString().slice(0, 10)}: ${machine}, all in one Node process.`,
  `The demo model (784-128-10 MLP, ${weights.length.toLocaleString("en")} parameters, trained for one epoch on ${train.count.toLocaleString("en")} digits) exported with \`exportOnnx\`:`,
  `${exportMs} ms per export (median of 20), ${onnx.length.toLocaleString("en")} bytes of ONNX against ${weightsMessage.toLocaleString("en")} bytes for its fp32 weights message;`,
  `the first ONNX Runtime session takes ${Math.round(sessionMs)} ms to create (it loads the wasm runtime), the next ${Math.round(secondSessionMs)} ms.`,
  "",
  `Inference throughput on the ${test.count.toLocaleString("en")} held-out digits (outputs read back to JavaScript), the median of ${RUNS} runs of at least ${seconds / RUNS} s per cell (the engines take turns run by run), and the test accuracy each engine gives.`,
  `Load average before the run: ${loadBefore.map((l) => l.toFixed(2)).join(", ")}; figures from a busy machine are lower and noisier.`,
  "",
  `Each cell: samples per second, and in brackets the ratio to ${base.engine} at the same batch size.`,
  "",
  `| engine | ${batches.map((b) => `batch ${b}`).join(" | ")} | test accuracy |`,
  `| --- | ${batches.map(() => "---:").join(" | ")} | ---: |`,
  ...rows.map((e) => `| ${e.engine} | ${batches.map((b) => `${Math.round(e.samplesPerSecond[b]).toLocaleString("en")} (${(e.samplesPerSecond[b] / base.samplesPerSecond[b]).toFixed(2)}x)`).join(" | ")} | ${e.accuracy.toFixed(4)} |`),
  "",
].join("\n"));
