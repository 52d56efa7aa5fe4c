import { afterEach, describe, expect, it } from "vitest";
import type { CheckInReply, JobSpecInput, JobStatus } from "@propius/shared";
import { api, cancelRunningJobs, createTenant, expectJson, jobSpec, jobStatus, registerClient, seedModel } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** A seeded job with scheduling fields beyond the plan. */
async function jobWith(extra: Partial<JobSpecInput>, plan: Partial<JobSpecInput["plan"]> = {}) {
  const { apiKey } = await createTenant();
  const created = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: { ...jobSpec(plan), ...extra } }), 201);
  return { apiKey, job: await seedModel(apiKey, created.id) };
}

const checkIn = (token: string, body: object) => expectJson<CheckInReply>(api("/v1/checkin", { token, json: body }));

describe("scheduling through the client managers", () => {
  it("binds a device only to a job whose public constraints it meets", async () => {
    const { job } = await jobWith({ constraints: { ram_gb: { min: 6 }, platform: { in: ["node", "browser"] } } });
    const small = await registerClient();
    expect(await checkIn(small.token, { attributes: { ram_gb: 4, platform: "node" } })).toMatchObject({ status: "wait", reason: "no_eligible_job" });
    const large = await registerClient();
    expect(await checkIn(large.token, { attributes: { ram_gb: 8, platform: "node" } })).toMatchObject({ status: "task", task: { jobId: job.id } });
  });

  it("offers a job with private constraints, and binds the device that accepts it", async () => {
    const { apiKey, job } = await jobWith({ privateConstraints: { dataset_size: { min: 100 } } });
    const { token } = await registerClient();
    const offer = await checkIn(token, { attributes: {} });
    expect(offer).toMatchObject({ status: "offer", offers: [{ jobId: job.id, privateConstraints: { dataset_size: { min: 100 } } }] });
    expect((await jobStatus(apiKey, job.id)).rounds[0].bound).toBe(0);
    expect(await checkIn(token, { attributes: {}, accept: job.id })).toMatchObject({ status: "task", task: { jobId: job.id, round: 1 } });
    expect((await jobStatus(apiKey, job.id)).rounds[0].bound).toBe(1);
  });

  it("lets the owner change the demand of the rounds to come", async () => {
    const { apiKey, job } = await jobWith({}, { clientsPerRound: 2 });
    const changed = await expectJson<JobStatus>(api(`/v1/jobs/${job.id}`, { method: "PATCH", token: apiKey, json: { clientsPerRound: 5 } }));
    expect(changed.spec.plan.clientsPerRound).toBe(5);
    expect(changed.rounds.map((r) => [r.round, r.demand])).toEqual([[1, 2]]);
  });

  it("keeps a device's attributes alive with a ping", async () => {
    const { token } = await registerClient();
    await checkIn(token, { attributes: { cores: 4 } });
    expect(await expectJson(api("/v1/ping", { token, json: {} }))).toEqual({ ok: true, ttlMs: 600_000 });
  });

  it("never over-assigns a round when devices on every shard check in at once", async () => {
    const { apiKey, job } = await jobWith({}, { clientsPerRound: 4, overCommit: 1.25 });
    const devices = await Promise.all(Array.from({ length: 16 }, () => registerClient()));
    const replies = await Promise.all(devices.map(({ token }) => checkIn(token, { attributes: {} })));
    expect(replies.filter((r) => r.status === "task")).toHaveLength(5);
    expect(replies.filter((r) => r.status === "wait").every((r) => r.status === "wait" && r.reason === "round_full")).toBe(true);
    expect((await jobStatus(apiKey, job.id)).rounds[0].bound).toBe(5);
  });
});
