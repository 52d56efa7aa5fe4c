import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createTenant, expectError, jobSpec, jobStub, registerClient } from "../../test/fixtures.js";

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
