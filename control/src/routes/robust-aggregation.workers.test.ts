import { afterEach, describe, expect, it } from "vitest";
import { gaussianEpsilon, type JobStatus } from "@propius/shared";
import { SEED, api, cancelRunningJobs, createTenant, delta, expectError, expectJson, jobSpec, registerClient, seedModel, taskFor, uploadDelta, waitForRound, weightsOf } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

const honest = [0.1, -0.2, 0.05, 0.1];

/** One round of `clientsPerRound` devices over HTTP, the last of them sending `attacker`; the model it gives. */
async function poisonedRound(robustness: unknown, attacker: { values: number[]; examples: number }, devices = 4) {
  const { apiKey } = await createTenant();
  const spec = { ...jobSpec({ rounds: 1, clientsPerRound: devices, overCommit: 1 }), robustness };
  const created = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201);
  const job = await seedModel(apiKey, created.id);
  for (let i = 0; i < devices; i++) {
    const { token } = await registerClient();
    const task = await taskFor(token, job.id);
    const update = i === devices - 1 ? attacker : { values: honest, examples: 10 };
    expect((await uploadDelta(token, task, delta(update.values, { examples: update.examples }))).status).toBe(202);
  }
  const status = await waitForRound(apiKey, job.id, 1, "closed");
  const model = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
  return { status, step: model.map((w, i) => w - SEED[i]) };
}

const far = (step: number[], target: number[]) => Math.hypot(...step.map((v, i) => v - target[i]));

describe("robust aggregation over HTTP", () => {
  it("shows the defaults in the job's spec: a 10,000-example cap and the mean", async () => {
    const { apiKey } = await createTenant();
    const created = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: jobSpec() }), 201);
    expect(created.spec.robustness).toEqual({ maxExamples: 10_000, estimator: { kind: "mean" } });
  });

  it("clips a claim of 1e9 examples to the job's cap where the shard weighs and where the round counts", async () => {
    const { status, step } = await poisonedRound({ maxExamples: 10 }, { values: honest.map((v) => -v), examples: 1e9 });
    // Capped at 10 the sign-flipped update weighs as one honest one: (3 - 1) / 4 of the honest step.
    step.forEach((v, i) => expect(v).toBeCloseTo(0.5 * honest[i], 5));
    expect(status.rounds[0].examples).toBe(40);
  });

  it("bounds a delta scaled x1e3 to the fixed norm", async () => {
    const { step } = await poisonedRound({ clipping: { mode: "fixed", norm: Math.hypot(...honest) } }, { values: honest.map((v) => v * 1e3), examples: 10 });
    step.forEach((v, i) => expect(v).toBeCloseTo(honest[i], 5));
  });

  it("takes the coordinate-wise median of the round's updates, whatever one sends and claims", async () => {
    const { step } = await poisonedRound({ estimator: { kind: "median" } }, { values: honest.map((v) => -v * 1e3), examples: 1e9 }, 5);
    expect(far(step, honest)).toBeLessThan(1e-6);
  });

  it("keeps multi-Krum's choice to the honest updates", async () => {
    const { step } = await poisonedRound({ estimator: { kind: "krum", byzantine: 1 } }, { values: honest.map((v) => v * 1e3), examples: 10 }, 5);
    expect(far(step, honest)).toBeLessThan(1e-6);
  });

  it("refuses at creation, with the figures, an estimator whose updates a shard cannot hold, and creates nothing", async () => {
    const { apiKey } = await createTenant();
    const big = { ...jobSpec({ clientsPerRound: 80, overCommit: 1 }), robustness: { estimator: { kind: "trimmedMean" } } };
    const layer = { class_name: "Dense", config: { name: "dense", units: 512, use_bias: false, activation: "softmax", batch_input_shape: [null, 512] } };
    big.model = { format: "tfjs-layers", topology: { class_name: "Sequential", config: { name: "big", layers: [layer] } }, weightSpecs: [{ name: "dense/kernel", shape: [512, 512], dtype: "float32" }] };
    const response = await api("/v1/jobs", { token: apiKey, json: big });
    const body = (await response.clone().json()) as { error: { message: string; details: unknown } };
    await expectError(response, 422, "aggregation_too_large");
    expect(body.error.details).toEqual({ parameters: 262_144, devicesPerRound: 80, bytes: 83_886_080, limitBytes: 67_108_864, maxDevicesPerRound: 64 });
    expect(body.error.message).toMatch(/80 devices x 262144 parameters x 4 bytes = 80\.0 MiB, over the 64\.0 MiB/);
    expect((await expectJson<{ jobs: unknown[] }>(api("/v1/jobs", { token: apiKey }))).jobs).toEqual([]);
  });

  it("refuses an estimator with FedBuff as a spec error naming the field", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec(), aggregation: { strategy: "fedbuff" }, robustness: { estimator: { kind: "median" } } };
    await expectError(api("/v1/jobs", { token: apiKey, json: spec }), 400, "validation_failed");
  });

  it("runs a private round: the job's record shows the norm bound and the epsilon spent, and the model moved by noise", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec({ rounds: 1, clientsPerRound: 2, overCommit: 1 }), aggregation: { strategy: "fedavg", weighting: "uniform" }, robustness: { clipping: { mode: "fixed", norm: 0.5 } }, privacy: { noiseMultiplier: 1 } };
    const job = await seedModel(apiKey, (await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201)).id);
    for (let i = 0; i < 2; i++) {
      const { token } = await registerClient();
      expect((await uploadDelta(token, await taskFor(token, job.id), delta(honest, { examples: 10 }))).status).toBe(202);
    }
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    expect(status.rounds[0].privacy).toEqual({ noiseMultiplier: 1, delta: 1e-5, releases: 1, epsilon: gaussianEpsilon(1, 1, 1e-5) });
    expect(status.rounds[0].clipping).toEqual({ bound: 0.5, belowBound: null, updates: 2 });
    const model = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
    // Without noise the step would be the honest delta exactly (its norm, 0.25, is within the bound); noise of sd 1 x 0.5 / 2 per coordinate moves it.
    expect(far(model.map((w, i) => w - SEED[i]), honest)).toBeGreaterThan(1e-4);
  });

  it("refuses privacy without a norm bound", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec(), aggregation: { strategy: "fedavg", weighting: "uniform" }, privacy: { noiseMultiplier: 1 } };
    await expectError(api("/v1/jobs", { token: apiKey, json: spec }), 400, "validation_failed");
  });
});
