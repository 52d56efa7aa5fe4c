import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, cancelRunningJobs, createTenant, delta, expectError, jobSpec, jobStub, registerClient, runningJob, taskFor, testEnv, uploadDelta } from "../../test/fixtures.js";
import { tickets } from "../auth/tickets.js";
import type { AggregatorObject } from "../aggregation/aggregator-object.js";

/** The tables in a job object's storage. */
const tablesOf = (jobId: string) => runInDurableObject(jobStub(jobId), (_instance, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table'").toArray().length);

describe("a job id that names no job", () => {
  it("is job_not_found on every route that names a job, and leaves its object's storage empty", async () => {
    const { apiKey } = await createTenant();
    const { token } = await registerClient();
    const ids = Array.from({ length: 3 }, () => `job_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`);
    for (const id of ids) {
      await expectError(api(`/v1/jobs/${id}`, { token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}`, { method: "PATCH", token: apiKey, json: { clientsPerRound: 2 } }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/cancel`, { method: "POST", token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}`, { method: "DELETE", token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/model/model.json`, { token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/devices`, { token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/events/token`, { method: "POST", token: apiKey }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/rounds/1/metrics`, { token: apiKey, json: { testAccuracy: 0.5 } }), 404, "job_not_found");
      await expectError(api(`/v1/jobs/${id}/rounds/1/failures`, { token, json: { code: "training_error", message: "x" }, headers: { "propius-ticket": "abcdefgh12345678" } }), 404, "job_not_found");
      expect(await tablesOf(id)).toBe(0);
    }
  });

  it("still names a job once it is created, and none again once it is deleted", async () => {
    const { apiKey } = await createTenant();
    const created = (await (await api("/v1/jobs", { token: apiKey, json: jobSpec() })).json()) as { id: string };
    expect(await tablesOf(created.id)).toBeGreaterThan(0);
    expect((await api(`/v1/jobs/${created.id}/cancel`, { method: "POST", token: apiKey })).status).toBe(200);
    expect((await api(`/v1/jobs/${created.id}`, { method: "DELETE", token: apiKey })).status).toBe(200);
    await expectError(api(`/v1/jobs/${created.id}`, { token: apiKey }), 404, "job_not_found");
    expect(await tablesOf(created.id)).toBe(0);
  });
});

describe("an upload to a job id that names no job", () => {
  // The shard's own count of its submit calls (an object stays in memory through the test: one
  // reached by the upload still holds its count; opening one here builds its tables, so they tell nothing).
  const submitsTo = (jobId: string) => runInDurableObject(testEnv.AGGREGATORS.get(testEnv.AGGREGATORS.idFromName(`${jobId}/aggregator-0`)), async (instance: AggregatorObject) => (await instance.counters()).calls.submit ?? 0);

  it("is job_not_found before any aggregator shard is reached, with a real ticket of another job or one signed with the wrong secret", async () => {
    const { job } = await runningJob();
    const device = await registerClient();
    const task = await taskFor(device.token, job.id);
    const id = `job_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const forged = tickets("not-the-token-secret").sign({ id: "t1", jobId: id, clientId: device.clientId, round: 1, attempt: 0, leaseUntil: Date.now() + 60_000, shard: 0 });
    for (const ticket of [task.ticket, forged]) {
      await expectError(uploadDelta(device.token, { uploadUrl: `/v1/jobs/${id}/rounds/1/updates`, ticket }, delta([1, 1, 1, 1])), 404, "job_not_found");
    }
    expect(await submitsTo(id)).toBe(0);
    await cancelRunningJobs();
  });
});
