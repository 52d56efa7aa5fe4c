import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  SEED,
  api,
  cancelRunningJobs,
  delta,
  expectError,
  jobRecord,
  jobStatus,
  jobStub,
  registerClient,
  runningJob,
  taskFor,
  uploadDelta,
  weightsOf,
} from "../../test/fixtures.js";
import { ROUND_DEADLINE } from "./job-core.js";
import { SqliteJobStore } from "./sqlite-job-store.js";

afterEach(cancelRunningJobs);

const scheduledAlarm = (jobId: string) => runInDurableObject(jobStub(jobId), (_, state) => state.storage.getAlarm());

/** Moves the round's deadline into the past in the job's storage, as if its time had run out. */
const expireRound = (jobId: string) =>
  runInDurableObject(jobStub(jobId), (_, state) => new SqliteJobStore(state.storage.sql, state.storage).put(ROUND_DEADLINE, Date.now() - 1));

describe("the job's round deadline alarm", () => {
  it("closes a round whose deadline passes with enough reports, and opens the next with a new model", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 3, minReportFraction: 0.5, roundDeadlineSeconds: 60 });
    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect(await scheduledAlarm(job.id)).toBe(taskA.deadline);
    expect((await uploadDelta(a.token, taskA, delta([2, 2, 2, 2], { examples: 1 }))).status).toBe(202);
    expect((await uploadDelta(b.token, taskB, delta([4, 4, 4, 4], { examples: 1 }))).status).toBe(202);

    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    expect((await jobStatus(apiKey, job.id)).rounds).toMatchObject([{ round: 1, status: "open", reported: 2 }]);

    await expireRound(job.id);
    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    const status = await jobStatus(apiKey, job.id);
    expect(status).toMatchObject({ state: "running", currentRound: 2, modelVersion: 1 });
    expect(status.modelHash).not.toBe(job.modelHash);
    expect(status.rounds).toMatchObject([
      { round: 1, attempt: 0, status: "closed", reported: 2, demand: 3, baseModel: job.modelHash, resultModel: status.modelHash },
      { round: 2, attempt: 0, status: "open", reported: 0, baseModel: status.modelHash },
    ]);
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(SEED, (w) => w + 3));
    const nextTask = await taskFor(a.token, job.id);
    expect(nextTask).toMatchObject({ round: 2, modelHash: status.modelHash });
    expect(await scheduledAlarm(job.id)).toBe(nextTask.deadline);
  });

  it("retries a round whose deadline passes with too few reports (attempt 1, same model)", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 2, minReportFraction: 0.8, roundDeadlineSeconds: 60 });
    const [a, b] = [await registerClient(), await registerClient()];
    const staleTask = await taskFor(a.token, job.id);
    const unusedTask = await taskFor(b.token, job.id);
    expect((await uploadDelta(a.token, staleTask, delta([1, 1, 1, 1]))).status).toBe(202);

    await expireRound(job.id);
    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    const status = await jobStatus(apiKey, job.id);
    expect(status).toMatchObject({ state: "running", currentRound: 1, modelVersion: 0, modelHash: job.modelHash });
    expect(status.rounds).toMatchObject([
      { round: 1, attempt: 0, status: "retried", reported: 1 },
      { round: 1, attempt: 1, status: "open", reported: 0, bound: 0, baseModel: job.modelHash },
    ]);

    await expectError(uploadDelta(b.token, unusedTask, delta([1, 1, 1, 1])), 409, "round_closed");
    const retry = await taskFor(a.token, job.id);
    expect(retry).toMatchObject({ round: 1, modelHash: job.modelHash });
    expect(retry.ticket).not.toBe(staleTask.ticket);
    expect(await scheduledAlarm(job.id)).toBe(retry.deadline);
    expect((await uploadDelta(a.token, retry, delta([1, 1, 1, 1]))).status).toBe(202);
  });

  it("leaves an open round alone when the alarm fires before its deadline", async () => {
    const { apiKey, job } = await runningJob({ roundDeadlineSeconds: 60 });
    const before = await jobRecord(apiKey, job.id);
    const deadline = await scheduledAlarm(job.id);
    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    expect(await jobRecord(apiKey, job.id)).toEqual(before);
    expect(await scheduledAlarm(job.id)).toBe(deadline);
  });
});
