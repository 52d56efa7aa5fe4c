import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import {
  SEED,
  api,
  cancelRunningJobs,
  delta,
  jobStatus,
  jobStub,
  registerClient,
  runningJob,
  taskFor,
  testEnv,
  uploadDelta,
  waitForRound,
  weightsOf,
} from "../../test/fixtures.js";
import { unwrap } from "../job/reply.js";
import { ROUND_DEADLINE } from "../job/job-core.js";
import { SqliteJobStore } from "../job/sqlite-job-store.js";
import { aggregatorOf } from "../directory/directory-client.js";
import { SqliteAggregatorStore } from "./sqlite-aggregator-store.js";

afterEach(cancelRunningJobs);

const shardStub = (jobId: string, shard: number) => testEnv.AGGREGATORS.get(testEnv.AGGREGATORS.idFromName(`${jobId}/aggregator-${shard}`));
const storedPartial = (jobId: string, shard: number) =>
  runInDurableObject(shardStub(jobId, shard), (_, state) => new SqliteAggregatorStore(state.storage.sql, state.storage).loadPartial());

describe("aggregator shards over HTTP", () => {
  it("folds a round's updates in three shards and closes it with the FedAvg of all of them; the shards then drop their sums", async () => {
    const { apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 9, overCommit: 1, aggregatorShards: 3 });
    expect(job.spec.plan.aggregatorShards).toBe(3);
    const devices = await Promise.all(Array.from({ length: 9 }, () => registerClient()));
    const tasks = [];
    for (const { token } of devices) tasks.push(await taskFor(token, job.id));
    for (const [i, { token }] of devices.entries()) {
      expect((await uploadDelta(token, tasks[i], delta([i, 0, 1, -i], { examples: i + 1 }))).status).toBe(202);
    }
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    expect(status.rounds[0]).toMatchObject({ reported: 9, examples: 45 });
    // Weighted mean of i with weights i + 1, i = 0..8: 240 / 45.
    const mean = 240 / 45;
    const served = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
    [SEED[0] + mean, SEED[1], SEED[2] + 1, SEED[3] - mean].forEach((w, i) => expect(served[i]).toBeCloseTo(w, 5));
    for (const shard of [0, 1, 2]) expect(await storedPartial(job.id, shard)).toBeNull();
  });

  it("counts at the deadline an update a shard folded whose commit was lost, and answers its late commit as accepted", async () => {
    // Two reports of three close the round at its deadline; the job has heard of one.
    const { apiKey, job } = await runningJob({ clientsPerRound: 3, minReportFraction: 0.5, roundDeadlineSeconds: 60 });
    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect((await uploadDelta(a.token, taskA, delta([2, 2, 2, 2]))).status).toBe(202);
    // b's upload reaches its shard, and the job never hears of it (as if the Worker died in between).
    const admission = await unwrap(jobStub(job.id).admitUpdate({ ticket: taskB.ticket, clientId: b.clientId, round: 1 }));
    const body = new Response(delta([4, 4, 4, 4], { examples: 3 })).body!;
    const folded = await unwrap(aggregatorOf(testEnv, job.id, admission.shard).fold(admission, body));
    expect((await jobStatus(apiKey, job.id)).rounds[0]).toMatchObject({ reported: 1 });

    await runInDurableObject(jobStub(job.id), (_, state) => new SqliteJobStore(state.storage.sql, state.storage).put(ROUND_DEADLINE, Date.now() - 1));
    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    expect(status.rounds[0]).toMatchObject({ reported: 2, examples: 4 });
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(SEED, (w) => w + 3.5));
    expect(await unwrap(jobStub(job.id).commitUpdate({ ticket: taskB.ticket, clientId: b.clientId, key: admission.key, folded }))).toMatchObject({ accepted: true, reported: 2 });
  });
});
