import { afterEach, describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { io } from "@tensorflow/tfjs-core";
import type { JobStatus } from "@propius/shared";
import {
  ADMIN_KEY,
  SEED,
  TENSORS,
  TOPOLOGY,
  api,
  cancelRunningJobs,
  createJob,
  createTenant,
  expectError,
  expectJson,
  jobSpec,
  jobStatus,
  seedModel,
  weightsOf,
} from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

type JobList = { jobs: { id: string; tenant: string; name: string; state: string }[] };

describe("the job owner's API", () => {
  it("creates a job that waits for its model, and lists it for its own tenant only", async () => {
    const owner = await createTenant();
    const other = await createTenant();
    const response = await api("/v1/jobs", { token: owner.apiKey, json: jobSpec() });
    const job = await expectJson<JobStatus>(response, 201);
    expect(response.headers.get("location")).toBe(`/v1/jobs/${job.id}`);
    expect(job).toMatchObject({ tenant: owner.tenant, name: "tiny", state: "pending_model", currentRound: 0, modelHash: null, rounds: [] });
    // The whole effective spec, every default filled in.
    expect(job.spec.plan).toEqual({
      rounds: 2, clientsPerRound: 2, overCommit: 1.3, minReportFraction: 0.8, roundDeadlineSeconds: 3600, deltaCodec: "fp32", localEpochs: 1,
      aggregatorShards: 1, batchSize: 32, learningRate: 0.05, optimizer: { name: "sgd" }, loss: "categoricalCrossentropy", shuffle: true, validationSplit: 0,
    });
    expect(job.spec.aggregation).toEqual({ strategy: "fedavg", weighting: "examples", serverLearningRate: 1 });
    expect(job.spec.model).toEqual(jobSpec().model);

    expect(await jobStatus(owner.apiKey, job.id)).toEqual(job);
    const mine = await expectJson<JobList>(api("/v1/jobs", { token: owner.apiKey }));
    expect(mine.jobs).toEqual([{ id: job.id, tenant: owner.tenant, name: "tiny", state: "pending_model", createdAt: job.createdAt }]);
    expect(await expectJson<JobList>(api("/v1/jobs", { token: other.apiKey }))).toEqual({ jobs: [] });
  });

  it("gives a tenant created again a second working API key", async () => {
    const first = await createTenant();
    const second = await expectJson<{ tenant: string; created: boolean; apiKey: string }>(
      api("/v1/tenants", { token: ADMIN_KEY, json: { name: first.tenant } }),
      201,
    );
    expect(second).toMatchObject({ tenant: first.tenant, created: false });
    expect(second.apiKey).not.toBe(first.apiKey);
    const job = await createJob(second.apiKey);
    expect(await jobStatus(first.apiKey, job.id)).toMatchObject({ tenant: first.tenant });
  });

  it("seeds the model from a weights message, opens round 1 and serves model.json and weights.bin", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    const seeded = await seedModel(apiKey, id);
    expect(seeded).toMatchObject({ state: "running", currentRound: 1, modelVersion: 0 });
    expect(seeded.modelHash).toMatch(/^[0-9a-f]{64}$/);
    expect(seeded.rounds).toMatchObject([{ round: 1, attempt: 0, status: "open", demand: 2, bound: 0, reported: 0, baseModel: seeded.modelHash }]);

    const modelJson = await expectJson(api(`/v1/jobs/${id}/model/model.json`, { token: apiKey }));
    expect(modelJson).toEqual({
      format: "layers-model",
      generatedBy: "propius-edge",
      modelTopology: TOPOLOGY,
      weightsManifest: [{ paths: [`weights.bin?hash=${seeded.modelHash}`], weights: TENSORS }],
      propius: { version: 0, hash: seeded.modelHash },
    });
    const weights = await api(`/v1/jobs/${id}/model/weights.bin?hash=${seeded.modelHash}`, { token: apiKey });
    expect(weights.headers.get("content-type")).toBe("application/octet-stream");
    expect(weights.headers.get("etag")).toBe(`"${seeded.modelHash}"`);
    expect(await weightsOf(weights)).toEqual(Array.from(SEED));
  });

  it("serves a version by hash to tfjs' own loader, which joins model.json's query to the weights path", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    const seeded = await seedModel(apiKey, id);
    const authorized = (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, { ...init, headers: { authorization: `Bearer ${apiKey}` } });
    for (const query of [`?hash=${seeded.modelHash}`, ""]) {
      const artifacts = await io.http(`http://control/v1/jobs/${id}/model/model.json${query}`, { fetchFunc: authorized }).load!();
      const values = new Float32Array(io.CompositeArrayBuffer.join(artifacts.weightData));
      expect(Array.from(values), query || "no hash").toEqual(Array.from(SEED));
    }
  });

  it("seeds the model from raw little-endian float32 bytes", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    const raw = Float32Array.of(0.5, -1.5, 2.25, 8);
    const seeded = await expectJson<JobStatus>(api(`/v1/jobs/${id}/model`, { method: "PUT", token: apiKey, type: "application/octet-stream", body: new Uint8Array(raw.buffer) }));
    expect(seeded.state).toBe("running");
    expect(await weightsOf(await api(`/v1/jobs/${id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(raw));
  });

  it("gives the same content address to the same weights, whichever way they were uploaded", async () => {
    const { apiKey } = await createTenant();
    const [first, second] = [await createJob(apiKey), await createJob(apiKey)];
    const fromMessage = await seedModel(apiKey, first.id);
    const fromRaw = await expectJson<JobStatus>(api(`/v1/jobs/${second.id}/model`, { method: "PUT", token: apiKey, type: "application/octet-stream", body: new Uint8Array(SEED.slice().buffer) }));
    expect(fromRaw.modelHash).toBe(fromMessage.modelHash);
  });

  it("cancels a running job and shows it as cancelled in the job list", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    await seedModel(apiKey, id);
    const cancelled = await expectJson<JobStatus>(api(`/v1/jobs/${id}/cancel`, { method: "POST", token: apiKey }));
    expect(cancelled).toMatchObject({ id, state: "cancelled" });
    expect(await jobStatus(apiKey, id)).toEqual(cancelled);
    const { jobs } = await expectJson<JobList>(api("/v1/jobs", { token: apiKey }));
    expect(jobs.map((j) => [j.id, j.state])).toEqual([[id, "cancelled"]]);
  });

  it("cancels a job that is still waiting for its model", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    expect(await expectJson(api(`/v1/jobs/${id}/cancel`, { method: "POST", token: apiKey }))).toMatchObject({ state: "cancelled" });
  });
});

describe("deleting a job", () => {
  it("deletes an ended job and its listing, and refuses a running one or another tenant's", async () => {
    const { apiKey } = await createTenant();
    const other = await createTenant();
    const { id } = await createJob(apiKey);
    await seedModel(apiKey, id);
    await expectError(api(`/v1/jobs/${id}`, { method: "DELETE", token: apiKey }), 409, "job_not_running");
    await expectJson(api(`/v1/jobs/${id}/cancel`, { method: "POST", token: apiKey }));
    await expectError(api(`/v1/jobs/${id}`, { method: "DELETE", token: other.apiKey }), 404, "job_not_found");
    expect(await expectJson(api(`/v1/jobs/${id}`, { method: "DELETE", token: apiKey }))).toEqual({ deleted: true, id });
    await expectError(api(`/v1/jobs/${id}`, { token: apiKey }), 404, "job_not_found");
    await expectError(api(`/v1/jobs/${id}`, { method: "DELETE", token: apiKey }), 404, "job_not_found");
    expect(await expectJson(api("/v1/jobs", { token: apiKey }))).toEqual({ jobs: [] });
  });

  it("shows a cancelled job's last round as cancelled", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    await seedModel(apiKey, id);
    const cancelled = await expectJson<JobStatus>(api(`/v1/jobs/${id}/cancel`, { method: "POST", token: apiKey }));
    expect(cancelled.rounds.map((r) => [r.round, r.status])).toEqual([[1, "cancelled"]]);
  });
});
