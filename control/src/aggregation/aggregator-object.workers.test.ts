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
import { tickets } from "../auth/tickets.js";
import { ROUND_DEADLINE } from "../job/job-core.js";
import { SqliteJobStore } from "../job/sqlite-job-store.js";
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
    for (const shard of [0, 1, 2]) expect(await storedPartial(job.id, shard)).toMatchObject({ round: 1, length: 0, sealed: true });
  });

  it("counts at the deadline an update a shard folded whose commit was lost, and refuses its retry once the round has closed", async () => {
    // Two reports of three close the round at its deadline; the job has heard of one.
    const { apiKey, job } = await runningJob({ clientsPerRound: 3, minReportFraction: 0.5, roundDeadlineSeconds: 60 });
    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect((await uploadDelta(a.token, taskA, delta([2, 2, 2, 2]))).status).toBe(202);
    // b's fold is in its shard's storage, and the job never heard of it (as if the shard's call to the job were lost).
    const claims = tickets("test-token-secret").verify(taskB.ticket)!;
    const folded = await runInDurableObject(shardStub(job.id, claims.shard), (_, state) => {
      const store = new SqliteAggregatorStore(state.storage.sql, state.storage);
      const meta = store.loadPartial() ?? { round: 1, attempt: 0, length: 4, weight: 0, examples: 0, count: 0, sealed: false };
      const sum = meta.count > 0 ? store.loadSum(4) : new Float32Array(4);
      for (let i = 0; i < 4; i++) sum[i] += 3 * 4;
      const record = { ticket: claims.id, examples: 3, trainLoss: null, bytesIn: 1, bytesDown: 0 };
      store.transaction(() => (store.savePartial({ ...meta, weight: meta.weight + 3, examples: meta.examples + 3, count: meta.count + 1 }, sum), store.saveFolded(record)));
      return record;
    });
    expect(folded.ticket).toBe(claims.id);
    expect((await jobStatus(apiKey, job.id)).rounds[0]).toMatchObject({ reported: 1 });

    await runInDurableObject(jobStub(job.id), (_, state) => new SqliteJobStore(state.storage.sql, state.storage).put(ROUND_DEADLINE, Date.now() - 1));
    expect(await runDurableObjectAlarm(jobStub(job.id))).toBe(true);
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    expect(status.rounds[0]).toMatchObject({ reported: 2, examples: 4 });
    expect(await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }))).toEqual(Array.from(SEED, (w) => w + 3.5));
    // b retries its upload: the round has closed, and its update was counted once.
    expect((await uploadDelta(b.token, taskB, delta([4, 4, 4, 4], { examples: 3 }))).status).toBe(409);
    expect((await jobStatus(apiKey, job.id)).rounds[0]).toMatchObject({ reported: 2, examples: 4 });
  });
});
