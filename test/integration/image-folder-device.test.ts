import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobSpecInput } from "@propius/shared";
import { useDigitsCache } from "@propius/edge-runtime/demo";
import * as tf from "@tensorflow/tfjs-layers";
import { getFlatWeights, initTraining, weightSpecsOf } from "@propius/edge-runtime/training";
import { fileDigitsCache, writeDigitFolder } from "@propius/node-client";
import { buildDeviceBundle } from "../../scripts/lib/bundles.js";
import { TEST_BUILD_DIR, TestControlPlane } from "./helpers.js";

/** A small CNN taking 14 x 14 RGB images, and its initial weights. */
async function rgbCnn(): Promise<{ model: JobSpecInput["model"]; weights: Float32Array }> {
  await initTraining({ prefer: ["cpu"] });
  const built = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [14, 14, 3], filters: 4, kernelSize: 3, activation: "relu" }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  const model = { format: "tfjs-layers" as const, topology: built.toJSON(null, false) as Record<string, unknown>, weightSpecs: weightSpecsOf(built) };
  const weights = await getFlatWeights(built);
  built.dispose();
  return { model, weights };
}

/** Runs the device CLI (`entry`) to its end; resolves with its exit code and output. */
function runCli(entry: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("a Node device on a folder of images, for a CNN job of another size and channels", () => {
  let plane: TestControlPlane;
  let dir: string;
  let entry: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-image-device-"));
    useDigitsCache(fileDigitsCache(join(dir, "cache")));
    // The bundle `npm start` runs: the image decoders are CommonJS packages bundled into it.
    const ready = Promise.all([buildDeviceBundle(TEST_BUILD_DIR), writeDigitFolder(join(dir, "digits"), { perClass: 3 })]);
    ready.catch(() => undefined);
    plane = await TestControlPlane.start();
    [entry] = await ready;
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("turns the 28 x 28 grey PNGs and JPEGs into 14 x 14 x 3 examples and completes the job's round", async () => {
    const owner = await plane.owner();
    const { model, weights } = await rgbCnn();
    const spec: JobSpecInput = {
      name: "rgb-cnn-from-image-folder",
      model,
      plan: { rounds: 1, clientsPerRound: 1, overCommit: 1, minReportFraction: 1, roundDeadlineSeconds: 300, localEpochs: 1, batchSize: 8, learningRate: 0.05, optimizer: "sgd", loss: "categoricalCrossentropy" },
      aggregation: { strategy: "fedavg" },
      input: { kind: "image", width: 14, height: 14, channels: 3, classes: 10 },
    };
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, weights);
    // cpu: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel.
    const run = await runCli(entry, ["--url", plane.url, "--data", join(dir, "digits"), "--backend", "cpu", "--state", join(dir, "device"), "--max-tasks", "1", "--max-idle", "120"]);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toContain(`examples for job ${job.id}: image 14 x 14 x 3, 10 classes: 30 examples from 30 images in 10 class folders, scaled to 14 x 14`);
    expect(run.output).toMatch(/trained on 30 examples/);
    const status = await owner.status(job.id);
    expect(status.rounds.map((r) => [r.round, r.status, r.reported])).toEqual([[1, "closed", 1]]);
  });
});
