import { afterEach, describe, expect, it } from "vitest";
import type { JobStatus } from "@propius/shared";
import { api, cancelRunningJobs, createTenant, expectError, expectJson, jobSpec, registerClient, seedModel, taskFor } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** A running job of a new tenant, its model seeded with `seed`; `bound`: the spec keeps its versions to its own devices. */
async function jobWith(seed: number[], bound: boolean) {
  const owner = await createTenant();
  const created = await expectJson<JobStatus>(api("/v1/jobs", { token: owner.apiKey, json: { ...jobSpec({ clientsPerRound: 1 }), ...(bound ? { modelAccess: "bound" } : {}) } }), 201);
  const job = await seedModel(owner.apiKey, created.id, Float32Array.from(seed));
  return { owner, job, hash: job.modelHash! };
}

describe("a job's model versions by hash", () => {
  it("with modelAccess bound, are served to the devices the job bound and its own tenant only; anyone else gets model_not_found", async () => {
    const { owner, job, hash } = await jobWith([5, 6, 7, 8], true);
    expect(job.spec.modelAccess).toBe("bound");
    const stranger = await registerClient();
    const otherTenant = await createTenant();
    await expectError(api(`/v1/models/${hash}`, { token: stranger.token }), 404, "model_not_found");
    await expectError(api(`/v1/models/${hash}`, { token: otherTenant.apiKey }), 404, "model_not_found");
    // Nor does a revalidation tell it apart from a missing version.
    await expectError(api(`/v1/models/${hash}`, { token: stranger.token, headers: { "if-none-match": `"${hash}"` } }), 404, "model_not_found");
    expect((await api(`/v1/models/${hash}`, { token: owner.apiKey })).status).toBe(200);

    const device = await registerClient();
    const task = await taskFor(device.token, job.id);
    expect(task.modelUrl).toBe(`/v1/models/${hash}`);
    const served = await api(task.modelUrl, { token: device.token });
    expect(served.status).toBe(200);
    expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(16);
    // The device that is not bound still is not served.
    await expectError(api(`/v1/models/${hash}`, { token: stranger.token }), 404, "model_not_found");
  });

  it("of an open job (the default) are served to any enrolled device and any tenant", async () => {
    const { hash } = await jobWith([1, 3, 5, 7], false);
    const stranger = await registerClient();
    expect((await api(`/v1/models/${hash}`, { token: stranger.token })).status).toBe(200);
    expect((await api(`/v1/models/${hash}`, { token: (await createTenant()).apiKey })).status).toBe(200);
  });

  it("are open once an open job stores the same bytes", async () => {
    const kept = await jobWith([2, 4, 6, 8], true);
    const open = await jobWith([2, 4, 6, 8], false);
    expect(open.hash).toBe(kept.hash);
    const stranger = await registerClient();
    expect((await api(`/v1/models/${kept.hash}`, { token: stranger.token })).status).toBe(200);
  });
});
