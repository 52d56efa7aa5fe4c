import { afterEach, describe, expect, it } from "vitest";
import { decodeWeights, WEIGHTS_MEDIA_TYPE, type JobStatus } from "@propius/shared";
import {
  SEED,
  api,
  cancelRunningJobs,
  checkIn,
  createJob,
  createTenant,
  expectError,
  expectJson,
  jobStatus,
  registerClient,
  runningJob,
  seedModel,
  taskFor,
} from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

describe("device enrolment and check-in", () => {
  it("registers a client with a signed token that carries its expiry", async () => {
    const reply = await expectJson<{ clientId: string; token: string; expiresAt: number; protocol: number }>(api("/v1/clients", { json: { attributes: { os: "linux", cores: 2 } } }), 201);
    expect(reply.protocol).toBe(1);
    expect(reply.token).toMatch(new RegExp(`^ct_${reply.clientId}\\.${(reply.expiresAt / 1000).toString(36)}\\.[A-Za-z0-9_-]{43}$`));
  });

  it("tells a client to wait, with Retry-After, when no job is running", async () => {
    const { token } = await registerClient();
    const response = await api("/v1/checkin", { token, json: {} });
    const reply = await expectJson<{ status: string; reason: string; retryAfterMs: number }>(response);
    expect(reply).toMatchObject({ status: "wait", reason: "no_jobs" });
    expect(Number(response.headers.get("retry-after"))).toBe(Math.ceil(reply.retryAfterMs / 1000));
  });

  it("binds a client to the oldest running job and gives it the same ticket when it checks in again", async () => {
    const older = await runningJob();
    const newer = await runningJob();
    expect(newer.job.createdAt).toBeGreaterThan(older.job.createdAt);
    const { token } = await registerClient();
    const task = await taskFor(token, older.job.id);
    expect(task).toMatchObject({ round: 1, modelHash: older.job.modelHash, plan: older.job.spec.plan });
    expect(task.deadline).toBeGreaterThan(Date.now());
    expect((await taskFor(token, older.job.id)).ticket).toBe(task.ticket);
    expect((await jobStatus(older.apiKey, older.job.id)).rounds[0].bound).toBe(1);
  });

  it("binds at most demand x over-commit clients, then sends the next job's task", async () => {
    const full = await runningJob({ clientsPerRound: 2, overCommit: 1 });
    const next = await runningJob();
    expect(next.job.createdAt).toBeGreaterThan(full.job.createdAt);
    const clients = [await registerClient(), await registerClient(), await registerClient()];
    await taskFor(clients[0].token, full.job.id);
    await taskFor(clients[1].token, full.job.id);
    await taskFor(clients[2].token, next.job.id);
    expect((await jobStatus(full.apiKey, full.job.id)).rounds[0].bound).toBe(2);
  });

  it("tells a client to wait while the only job's round is full", async () => {
    const { job } = await runningJob({ clientsPerRound: 1, overCommit: 1 });
    await taskFor((await registerClient()).token, job.id);
    expect(await checkIn((await registerClient()).token)).toMatchObject({ status: "wait", reason: "round_full" });
  });

  it("does not bind clients to a job that waits for its model", async () => {
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    const { token } = await registerClient();
    expect(await checkIn(token)).toMatchObject({ status: "wait", reason: "no_jobs" });
    await seedModel(apiKey, id);
    await taskFor(token, id);
  });
});

describe("GET /v1/models/:hash", () => {
  it("serves a model version to clients and owners, immutable and revalidated by ETag", async () => {
    const { apiKey, job } = await runningJob();
    const hash = job.modelHash!;
    const { token } = await registerClient();
    for (const credential of [token, apiKey]) {
      const response = await api(`/v1/models/${hash}`, { token: credential });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe(WEIGHTS_MEDIA_TYPE);
      expect(response.headers.get("etag")).toBe(`"${hash}"`);
      expect(response.headers.get("cache-control")).toContain("immutable");
      const bytes = new Uint8Array(await response.arrayBuffer());
      const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
      expect(digest).toBe(hash);
      expect(Array.from(decodeWeights(bytes).values)).toEqual(Array.from(SEED));
    }
    const notModified = await api(`/v1/models/${hash}`, { token, headers: { "if-none-match": `"other", "${hash}"` } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe(`"${hash}"`);
  });

  it("answers an unknown model hash with model_not_found", async () => {
    const { token } = await registerClient();
    await expectError(api(`/v1/models/${"0".repeat(64)}`, { token }), 404, "model_not_found");
  });

  it("keeps serving a job's seed model after the job is cancelled", async () => {
    const { apiKey, job } = await runningJob();
    await expectJson<JobStatus>(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    expect((await api(`/v1/models/${job.modelHash}`, { token: apiKey })).status).toBe(200);
  });
});
