import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { directoryOf } from "../directory/directory-client.js";
import { api, cancelRunningJobs, checkIn, delta, expectJson, jobStatus, registerClient, runningJob, taskFor, testEnv, uploadDelta, waitForRound } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** Waits until the directory, which the shards schedule by, has heard of the job's retried attempt (the job tells it after storing the retry). */
async function scheduledAttempt(jobId: string, attempt: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (((await directoryOf(testEnv).scheduledJobs()).find((j) => j.id === jobId)?.attempt ?? -1) >= attempt) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the directory never heard of attempt ${attempt} of ${jobId}`);
}

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
    expect(retried.starvation).toMatchObject({ starved: true, eligibleDevices: 1, admitted: false, reason: "starving: 1 eligible online, needs 3" });
    expect(retried.starvation!.attemptsRetried).toBeGreaterThanOrEqual(1);
    expect(retried.starvation!.measuredAt).toBeGreaterThan(0);

    // Held back: the retried attempt binds no device while it cannot fill (two devices online).
    await scheduledAttempt(job.id, 1);
    const late = await Promise.all([registerClient(), registerClient()]);
    expect(await checkIn(late[0].token)).toMatchObject({ status: "wait" });
    expect((await jobStatus(apiKey, job.id)).rounds.find((r) => r.attempt === 1)).toMatchObject({ bound: 0 });
    // A third: the shard it checks in on may count all three already, and bind it.
    await checkIn(late[1].token);

    await flushShards();
    expect((await jobStatus(apiKey, job.id)).starvation).toMatchObject({ starved: false, eligibleDevices: 3, demand: 3, minimumReports: 3, admitted: true });
    await taskFor(late[0].token, job.id);
  });

  it("with a scarcity plan, a retried round asks for fewer devices, the scheduler admits and offers it by that demand, and it closes", async () => {
    const scarcity = { shrinkAfterAttempts: 1, minClientsPerRound: 2 };
    const { apiKey, job } = await runningJob({ rounds: 1, clientsPerRound: 4, minReportFraction: 1, roundDeadlineSeconds: 2, scarcity });
    const devices = await Promise.all([registerClient(), registerClient()]);
    for (const device of devices) await taskFor(device.token, job.id);
    await flushShards();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const retried = await waitForRound(apiKey, job.id, 1, "retried");
    expect(retried.rounds.map((r) => [r.attempt, r.demand])).toEqual([[0, 4], [1, 2]]);
    await scheduledAttempt(job.id, 1);
    // The scheduler offers and admits the attempt by its own demand: two eligible devices make its minimum, and both are bound to it.
    const scheduled = (await directoryOf(testEnv).scheduledJobs()).find((j) => j.id === job.id);
    expect(scheduled).toMatchObject({ attempt: 1, demand: 2, minimum: 2 });
    expect(retried.starvation).toMatchObject({ demand: 2, minimumReports: 2, admitted: true });
    for (const device of devices) {
      const task = await taskFor(device.token, job.id);
      expect(task).toMatchObject({ round: 1, attempt: 1 });
      expect((await uploadDelta(device.token, task, delta([1, 1, 1, 1]))).status).toBe(202);
    }
    expect((await waitForRound(apiKey, job.id, 1, "closed")).rounds.at(-1)).toMatchObject({ attempt: 1, demand: 2, reported: 2, status: "closed" });
  });

  it("is absent once the job is not running", async () => {
    const { apiKey, job } = await runningJob({ rounds: 1 });
    const cancelled = await expectJson<{ state: string }>(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    expect(cancelled.state).toBe("cancelled");
    expect(await jobStatus(apiKey, job.id)).not.toHaveProperty("starvation");
  });
});

