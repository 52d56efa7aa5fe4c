import { afterEach, describe, expect, it } from "vitest";
import { WeightedSum, createStrategy, decodeWeights, type AnyRoundStrategy, type JobStatus, type UpdateReceipt } from "@propius/shared";
import {
  SEED,
  TENSORS,
  TOPOLOGY,
  api,
  cancelRunningJobs,
  checkIn,
  createTenant,
  delta,
  expectJson,
  jobSpec,
  registerClient,
  runningJob,
  seedModel,
  taskFor,
  uploadDelta,
  waitForRound,
  weightsOf,
} from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

describe("a server-side strategy over HTTP", () => {
  it("applies FedAdam with its moments kept in the job's storage from round to round", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec({ rounds: 3, clientsPerRound: 1, overCommit: 1 }), aggregation: { strategy: "fedadam", serverLearningRate: 0.5 } };
    const created = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201);
    const job = await seedModel(apiKey, created.id);
    const deltas = [[1, -1, 2, 0], [1, 1, -2, 0.5]];
    const strategy = createStrategy({ strategy: "fedadam", serverLearningRate: 0.5 }) as AnyRoundStrategy;
    let expected: Float32Array = Float32Array.from(SEED);
    let state = strategy.initialState(4);
    for (const [i, values] of deltas.entries()) {
      const { token } = await registerClient();
      const task = await taskFor(token, job.id);
      expect((await uploadDelta(token, task, delta(values, { examples: 2 }))).status).toBe(202);
      await waitForRound(apiKey, job.id, i + 1, "closed");
      const sum = new WeightedSum(4);
      sum.add(Float32Array.from(values), 2);
      ({ next: expected, state } = strategy.aggregateTrain(expected, sum, state as never));
    }
    const served = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
    served.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 6));
  });
});

describe("FedProx over HTTP", () => {
  it("sends the proximal coefficient with every task, and aggregates as FedAvg", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec({ rounds: 2, clientsPerRound: 1, overCommit: 1 }), aggregation: { strategy: "fedprox", proximalMu: 0.1 } };
    const job = await seedModel(apiKey, (await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201)).id);
    const { token } = await registerClient();
    const task = await taskFor(token, job.id);
    expect(task.train).toEqual({ proximalMu: 0.1 });
    expect((await uploadDelta(token, task, delta([1, 2, 3, 4], { examples: 5 }))).status).toBe(202);
    await waitForRound(apiKey, job.id, 1, "closed");
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(SEED, (w, i) => w + [1, 2, 3, 4][i]));
  });
});

describe("FedBuff over HTTP", () => {
  it("applies every K updates and takes an update trained from an older model, discounted", async () => {
    const { apiKey } = await createTenant();
    const spec = { ...jobSpec({ rounds: 3, clientsPerRound: 3, overCommit: 1 }), aggregation: { strategy: "fedbuff", bufferSize: 2, stalenessExponent: 1 } };
    const job = await seedModel(apiKey, (await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201)).id);
    const devices = [await registerClient(), await registerClient(), await registerClient()];
    const tasks = [];
    for (const { token } of devices) tasks.push(await taskFor(token, job.id));
    expect(tasks.map((t) => t.round)).toEqual([1, 1, 1]);
    for (const i of [0, 1]) expect((await uploadDelta(devices[i].token, tasks[i], delta([2, 2, 2, 2], { examples: 1 }))).status).toBe(202);
    await waitForRound(apiKey, job.id, 1, "closed");
    // Device 2 still trains from the seed model; device 0 takes a task from step 2's model.
    const fresh = await taskFor(devices[0].token, job.id);
    expect(fresh.round).toBe(2);
    expect((await uploadDelta(devices[2].token, tasks[2], delta([4, 4, 4, 4], { examples: 1 }))).status).toBe(202);
    expect((await uploadDelta(devices[0].token, fresh, delta([1, 1, 1, 1], { examples: 1 }))).status).toBe(202);
    await waitForRound(apiKey, job.id, 2, "closed");
    // Step 1: +2. Step 2: staleness 1 weighs 1 / (1 + 1): (4 / 2 + 1) / 2 examples = 1.5.
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(SEED, (w) => w + 3.5));
  });
});

describe("a federated round over HTTP", () => {
  it("trains one round end to end: tasks, model download, deltas, FedAvg, the next round, cancel", async () => {
    const { apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 2 });
    const seedHash = job.modelHash!;
    expect(job).toMatchObject({ state: "running", currentRound: 1, modelVersion: 0 });

    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect(taskA).toMatchObject({ round: 1, modelHash: seedHash, modelUrl: `/v1/models/${seedHash}`, uploadUrl: `/v1/jobs/${job.id}/rounds/1/updates` });
    expect(taskA.model.weightSpecs).toEqual(TENSORS);
    expect(taskB.ticket).not.toBe(taskA.ticket);

    const download = await api(taskA.modelUrl, { token: a.token });
    expect(download.status).toBe(200);
    expect(download.headers.get("etag")).toBe(`"${seedHash}"`);
    expect(Array.from(decodeWeights(new Uint8Array(await download.arrayBuffer())).values)).toEqual(Array.from(SEED));
    const revalidated = await api(taskB.modelUrl, { token: b.token, headers: { "if-none-match": `"${seedHash}"` } });
    expect(revalidated.status).toBe(304);
    expect(await revalidated.text()).toBe("");

    const deltaA = [4, 0, -4, 8];
    const deltaB = [0, 4, 4, 0];
    const first = await expectJson<UpdateReceipt>(uploadDelta(a.token, taskA, delta(deltaA, { examples: 1, trainLoss: 2 })), 202);
    expect(first).toEqual({ accepted: true, jobId: job.id, round: 1, reported: 1, demand: 2 });
    const second = await expectJson<UpdateReceipt>(uploadDelta(b.token, taskB, delta(deltaB, { examples: 3, trainLoss: 1 })), 202);
    expect(second).toMatchObject({ reported: 2, demand: 2 });

    const status = await waitForRound(apiKey, job.id, 1, "closed");
    const nextHash = status.modelHash!;
    expect(nextHash).not.toBe(seedHash);
    expect(status).toMatchObject({ state: "running", currentRound: 2, modelVersion: 1 });
    expect(status.rounds).toMatchObject([
      { round: 1, attempt: 0, status: "closed", reported: 2, examples: 4, trainLoss: 1.25, baseModel: seedHash, resultModel: nextHash },
      { round: 2, attempt: 0, status: "open", reported: 0, baseModel: nextHash, resultModel: null },
    ]);

    const fedAvg = Array.from(SEED, (w, i) => w + (deltaA[i] * 1 + deltaB[i] * 3) / 4);
    const weights = await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey });
    expect(weights.headers.get("etag")).toBe(`"${nextHash}"`);
    expect(await weightsOf(weights)).toEqual(fedAvg);
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin?hash=${seedHash}`, { token: apiKey }))).toEqual(Array.from(SEED));

    const modelJson = await expectJson<Record<string, unknown>>(api(`/v1/jobs/${job.id}/model/model.json`, { token: apiKey }));
    expect(modelJson).toMatchObject({
      format: "layers-model",
      modelTopology: TOPOLOGY,
      weightsManifest: [{ paths: [`weights.bin?hash=${nextHash}`], weights: TENSORS }],
      propius: { version: 1, hash: nextHash },
    });

    const nextTask = await taskFor(a.token, job.id);
    expect(nextTask).toMatchObject({ round: 2, modelHash: nextHash });

    const metrics = await expectJson(api(`/v1/jobs/${job.id}/rounds/1/metrics`, { token: apiKey, json: { testAccuracy: 0.75, testLoss: 0.5 } }));
    expect(metrics).toMatchObject({ round: 1, status: "closed", testAccuracy: 0.75, testLoss: 0.5 });

    const cancelled = await expectJson<JobStatus>(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    expect(cancelled.state).toBe("cancelled");
    expect(await checkIn(b.token)).toMatchObject({ status: "wait" });
    const { jobs } = await expectJson<{ jobs: { id: string; state: string }[] }>(api("/v1/jobs", { token: apiKey }));
    expect(jobs).toEqual([expect.objectContaining({ id: job.id, state: "cancelled" })]);
  });

  it("tells a client that already reported to wait for the next round", async () => {
    const { job } = await runningJob({ clientsPerRound: 2 });
    const client = await registerClient();
    const task = await taskFor(client.token, job.id);
    expect((await uploadDelta(client.token, task, delta([1, 1, 1, 1]))).status).toBe(202);
    expect(await checkIn(client.token)).toMatchObject({ status: "wait", reason: "already_reported" });
  });

  it("finishes the job after its last round", async () => {
    const { apiKey, job } = await runningJob({ rounds: 1, clientsPerRound: 1 });
    const client = await registerClient();
    const task = await taskFor(client.token, job.id);
    expect((await uploadDelta(client.token, task, delta([1, 1, 1, 1]))).status).toBe(202);
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    expect(status).toMatchObject({ state: "done", modelVersion: 1 });
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual([2, 3, 4, 5]);
    expect(await checkIn(client.token)).toMatchObject({ status: "wait" });
  });
});
