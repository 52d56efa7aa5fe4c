/**
 * CPU per model check, in this process (Node): `npm run bench:model-check -w control`.
 * Prints the one-off cost of loading tfjs, then the median and slowest milliseconds per check for
 * the demo MLP, a 55k-parameter CNN and a 10M-parameter dense model, and the tensors left after.
 */
import { parameterCount, type ModelDefinition } from "@propius/shared";
import { checkModel } from "./model-check.js";
import { cnn, dense10M, mlp } from "./model-fixtures.js";
import { loadTfjs } from "./tfjs-runtime.js";

// The control package is typed for workerd, not Node: read Node's process through globalThis.
const node = (globalThis as { process?: { env: Record<string, string | undefined>; version: string } }).process;
const RUNS = Number(node?.env.RUNS ?? 7);
const LIMIT = { maxBytes: 64 << 20 };

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function bench(name: string, model: ModelDefinition): Promise<string> {
  await checkModel(model, undefined, LIMIT); // warm: the first build of a layer class compiles its code
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await timed(() => checkModel(model, undefined, LIMIT)));
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  return `${name.padEnd(10)} ${String(parameterCount(model.weightSpecs)).padStart(11)} ${median.toFixed(1).padStart(10)} ${times[times.length - 1].toFixed(1).padStart(9)}`;
}

const load = await timed(loadTfjs);
const tfjs = await loadTfjs();
const before = tfjs.core.memory().numTensors;
console.log(`node ${node?.version}, tfjs ${tfjs.core.version_core} on ${tfjs.core.getBackend()}; ${RUNS} runs per model after one warm-up`);
console.log(`loading tfjs (first check in a process): ${load.toFixed(0)} ms`);
console.log("model       parameters  median ms  worst ms");
for (const [name, model] of [["mlp", mlp()], ["cnn-55k", cnn()], ["dense-10M", dense10M()]] as const) console.log(await bench(name, model));
console.log(`tensors left after all checks: ${tfjs.core.memory().numTensors - before}`);
