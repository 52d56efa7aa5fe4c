import { afterEach, describe, expect, it } from "vitest";
import type { JobDevices } from "@propius/shared";
import { api, cancelRunningJobs, createTenant, delta, expectError, expectJson, registerClient, runningJob, taskFor, uploadDelta } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

const devicesOf = (apiKey: string, jobId: string, query = "") => expectJson<JobDevices>(api(`/v1/jobs/${jobId}/devices${query}`, { token: apiKey }));

describe("GET /v1/jobs/:id/devices", () => {
  it("lists a device once it is bound, by an anonymous id, with its attributes, and counts its accepted update", async () => {
    const { apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 2 });
    expect(await devicesOf(apiKey, job.id)).toEqual({ devices: [] });

    const first = await registerClient();
    const task = await taskFor(first.token, job.id);
    const bound = await devicesOf(apiKey, job.id);
    expect(bound.devices).toEqual([
      { id: expect.stringMatching(/^[0-9a-f]{16}$/), attributes: { platform: "test" }, roundsBound: 1, updatesAccepted: 0, examples: 0, bytesIn: 0, failures: {}, evaluationsReported: 0, firstSeen: expect.any(Number), lastSeen: expect.any(Number) },
    ]);
    expect(JSON.stringify(bound)).not.toContain(first.clientId);

    expect((await uploadDelta(first.token, task, delta([1, 2, 3, 4], { examples: 12 }))).status).toBe(202);
    const second = await registerClient();
    await taskFor(second.token, job.id);
    const { devices } = await devicesOf(apiKey, job.id);
    expect(devices).toHaveLength(2);
    const reported = devices.find((d) => d.id === bound.devices[0].id)!;
    expect(reported).toMatchObject({ roundsBound: 1, updatesAccepted: 1, examples: 12 });
    expect(reported.bytesIn).toBeGreaterThan(0);
    expect(reported.lastSeen).toBeGreaterThanOrEqual(bound.devices[0].lastSeen);
    // The most recently seen first.
    expect(devices[0].lastSeen).toBeGreaterThanOrEqual(devices[1].lastSeen);
    expect((await devicesOf(apiKey, job.id, "?limit=1")).devices).toEqual([devices[0]]);
  });

  it("answers job_not_found for another tenant's job and a missing one, and needs the API key", async () => {
    const { job } = await runningJob({ rounds: 1 });
    const other = await createTenant();
    await expectError(api(`/v1/jobs/${job.id}/devices`, { token: other.apiKey }), 404, "job_not_found");
    await expectError(api("/v1/jobs/job_nosuchjob000000/devices", { token: other.apiKey }), 404, "job_not_found");
    await expectError(api(`/v1/jobs/${job.id}/devices`), 401, "unauthorized");
  });

  it("refuses a limit that is not a whole number from 1 to 1000", async () => {
    const { apiKey, job } = await runningJob({ rounds: 1 });
    for (const limit of ["0", "1001", "2.5", "ten", ""]) await expectError(api(`/v1/jobs/${job.id}/devices?limit=${limit}`, { token: apiKey }), 400, "validation_failed");
    expect(await devicesOf(apiKey, job.id, "?limit=1000")).toEqual({ devices: [] });
  });
});
