import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { api, cancelRunningJobs, checkIn, expectJson, jobStatus, registerClient, runningJob, taskFor, testEnv, waitForRound } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** Fires every client-manager shard's alarm: each reports the eligible devices it saw to the directory. */
async function flushShards(): Promise<void> {
  for (let i = 0; i < 4; i++) await runDurableObjectAlarm(testEnv.CLIENTS.get(testEnv.CLIENTS.idFromName(`clients-${i}`)));
}

describe("a job's starvation, in GET /v1/jobs/:id", () => {
  it("says a round cannot fill with fewer eligible devices than it needs, counts its retries, holds a retried round back without binding, and clears once enough devices come", async () => {
    const { apiKey, job } = await runningJob({ rounds: 1, clientsPerRound: 3, minReportFraction: 1, roundDeadlineSeconds: 1 });
    // Only GET /v1/jobs/:id reads the directory's supply figures.
    expect(job).not.toHaveProperty("starvation");
    // No shard has seen a device yet.
    expect((await jobStatus(apiKey, job.id)).starvation).toEqual({
      starved: true, eligibleDevices: 0, windowSeconds: 0, demand: 3, minimumReports: 3, attemptsRetried: 0, measuredAt: null, admitted: true,
    });

    const first = await registerClient();
    await taskFor(first.token, job.id);
    await flushShards();
    expect((await jobStatus(apiKey, job.id)).starvation).toMatchObject({ starved: true, eligibleDevices: 1, windowSeconds: 60, demand: 3, minimumReports: 3, attemptsRetried: 0 });

    // The deadline passes with one report short of three (none, here): the attempt is retried.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await waitForRound(apiKey, job.id, 1, "retried");
    const retried = await jobStatus(apiKey, job.id);
    expect(retried.starvation).toMatchObject({ starved: true, eligibleDevices: 1, attemptsRetried: 1, admitted: false, reason: "starving: 1 eligible online, needs 3" });
    expect(retried.starvation!.measuredAt).toBeGreaterThan(0);

    // Held back: the retried attempt binds no device while it cannot fill.
    const late = await Promise.all([registerClient(), registerClient()]);
    for (const device of late) expect(await checkIn(device.token)).toMatchObject({ status: "wait" });
    expect((await jobStatus(apiKey, job.id)).rounds.find((r) => r.attempt === 1)).toMatchObject({ bound: 0 });

    await flushShards();
    expect((await jobStatus(apiKey, job.id)).starvation).toMatchObject({ starved: false, eligibleDevices: 3, demand: 3, minimumReports: 3, admitted: true });
    await taskFor(late[0].token, job.id);
  });

  it("is absent once the job is not running", async () => {
    const { apiKey, job } = await runningJob({ rounds: 1 });
    const cancelled = await expectJson<{ state: string }>(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    expect(cancelled.state).toBe("cancelled");
    expect(await jobStatus(apiKey, job.id)).not.toHaveProperty("starvation");
  });
});

