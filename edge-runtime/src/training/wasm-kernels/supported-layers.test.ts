import { SUPPORTED_LAYERS, tensorSize } from "@propius/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { mulberry32 } from "../../demo/random.js";
import { trainingBackends } from "../backend.js";
import { trainLocal, type LocalTrainingPlan } from "../train.js";
import { layerClasses, layerModelSource, LAYER_MODELS, thirdsData } from "./layer-models.js";

const PLANS: LocalTrainingPlan[] = [
  { localSteps: 25, batchSize: 16, learningRate: 0.5, optimizer: "sgd", loss: "categoricalCrossentropy" },
  { localSteps: 25, batchSize: 16, learningRate: 0.02, optimizer: "adam", loss: "categoricalCrossentropy" },
];

it("the models below use every supported layer class", async () => {
  await trainingBackends.use("wasm");
  const used = new Set<string>();
  for (const spec of LAYER_MODELS) layerClasses((await layerModelSource(spec)).model.topology).forEach((c) => used.add(c));
  expect([...SUPPORTED_LAYERS].filter((layer) => !used.has(layer))).toEqual([]);
});

describe.each(["wasm", "cpu"])("every supported layer trains on %s", (backend) => {
  beforeAll(async () => {
    await trainingBackends.use(backend);
  }, 120_000);

  const cases = LAYER_MODELS.flatMap((spec) => PLANS.map((plan) => [spec.name, plan.optimizer, spec, plan] as const));
  it.each(cases)("%s, %s: the loss falls and every weight tensor moves", async (_name, _optimizer, spec, plan) => {
    const source = await layerModelSource(spec);
    // One full batch, so that every step sees the same examples and the loss can only fall by learning.
    const data = thirdsData(spec.inputShape, plan.batchSize, 11);
    const losses: number[] = [];
    const result = await trainLocal({ ...source, data, plan, random: mulberry32(1), onProgress: (p) => losses.push(p.loss) });
    expect(losses).toHaveLength(plan.localSteps!);
    expect(losses.every(Number.isFinite)).toBe(true);
    const last = losses.slice(-3).reduce((s, v) => s + v, 0) / 3;
    expect(last).toBeLessThan(0.9 * losses[0]);
    let offset = 0;
    for (const tensor of source.model.weightSpecs) {
      const size = tensorSize(tensor);
      const moved = result.delta.subarray(offset, offset + size).some((v) => v !== 0);
      expect(moved, `${tensor.name} did not change`).toBe(true);
      offset += size;
    }
  });
});
