import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { Task } from "@propius/shared";
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
import type { JobPort } from "./shard-ports.js";

afterEach(cancelRunningJobs);

const shardStub = (jobId: string, shard: number) => testEnv.AGGREGATORS.get(testEnv.AGGREGATORS.idFromName(`${jobId}/aggregator-${shard}`));
/**
 * Makes the shard's next call to its job fail, as a lost message would (the fault is injected at
 * the RPC edge of the running object: its own state and sequence are the production ones).
 * Returns what puts the call back.
 */
function loseNextCommit(instance: unknown): () => void {
  const port = (instance as { core: { job: JobPort } }).core.job;
  const commitFolds = port.commitFolds;
  port.commitFolds = () => {
    port.commitFolds = commitFolds;
    return Promise.reject(new Error("the call to the job was lost"));
  };
  return () => void (port.commitFolds = commitFolds);
}
const storedPartial = (jobId: string, shard: number) =>
  runInDurableObject(shardStub(jobId, shard), (_, state) => new SqliteAggregatorStore(state.storage.sql, state.storage).loadPartial());

describe("a shard's SQLite store", () => {
  it("stores a sum over several 1 MiB rows from views of its bytes, whatever the buffer around them, and reads back the same bits", async () => {
    const length = (5 << 20) / 4 + 3;
    const stored = await runInDurableObject(shardStub("job_store_views", 0), (_, state) => {
      const store = new SqliteAggregatorStore(state.storage.sql, state.storage);
      // A sum at an offset inside a larger buffer, with bytes around it that must not be stored.
      const around = new Float32Array(length + 8).fill(-1);
      const sum = around.subarray(4, 4 + length);
      sum.forEach((_, i) => (sum[i] = i * 0.5 + 1));
      store.savePartial({ round: 1, attempt: 0, length, weight: 1, examples: 1, count: 1, sealed: false }, sum);
      sum.reverse();
      store.savePartial({ round: 1, attempt: 0, length, weight: 2, examples: 2, count: 2, sealed: false }, sum);
      const rows = [...store.sumChunks()].map((chunk) => chunk.length);
      return { back: Array.from(store.loadSum(length)), rows, expected: Array.from(sum) };
    });
    expect(stored.rows).toEqual([1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 12]);
    expect(stored.back).toEqual(stored.expected);
  });
});

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

  it("folds bodies sent without a length, read piece by piece, as it folds those read whole; and refuses a bad one so", async () => {
    const { apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 2, overCommit: 1 });
    const [a, b] = [await registerClient(), await registerClient()];
    const [taskA, taskB] = [await taskFor(a.token, job.id), await taskFor(b.token, job.id)];
    // No Content-Length: the shard cannot read the body ahead, and reads it in its turn as it arrives, here 3 bytes at a time.
    const trickle = (bytes: Uint8Array) =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let at = 0; at < bytes.length; at += 3) controller.enqueue(bytes.slice(at, at + 3));
          controller.close();
        },
      });
    const cut = delta([4, 4, 4, 4], { examples: 3 });
    expect((await uploadDelta(a.token, taskA, trickle(cut.subarray(0, cut.length - 2)))).status).toBe(400);
    // Refused at its first bytes: the rest is still received (drained) before the answer.
    expect((await uploadDelta(a.token, taskA, trickle(new Uint8Array(20_000).fill(7)))).status).toBe(400);
    expect((await uploadDelta(a.token, taskA, trickle(delta([1, 2, 3, 4], { examples: 1 })))).status).toBe(202);
    expect((await uploadDelta(b.token, taskB, delta([4, 4, 4, 4], { examples: 3 }))).status).toBe(202);
    await waitForRound(apiKey, job.id, 1, "closed");
    const served = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
    [1, 2, 3, 4].forEach((v, i) => expect(served[i]).toBeCloseTo(SEED[i] + (v + 12) / 4, 5));
  });

  it("ends an upload that stops half way with upload_stalled once UPLOAD_IDLE_MS pass, and folds the uploads behind it", async () => {
    const { apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 4, overCommit: 1 });
    const devices = [await registerClient(), await registerClient(), await registerClient(), await registerClient()];
    const tasks: Task[] = [];
    for (const { token } of devices) tasks.push(await taskFor(token, job.id));
    const [chunked, declared, honest, late] = devices.map((d, i) => ({ ...d, task: tasks[i] }));
    // Half a delta, then nothing, the connection kept open. Without a length the shard reads it in
    // its turn, as it arrives; with one it reads it ahead of its turn.
    const bytes = delta([9, 9, 9, 9]);
    const half = bytes.slice(0, bytes.length >> 1);
    const stalledChunked = uploadDelta(chunked.token, chunked.task, new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(half) }));
    const fixed = new FixedLengthStream(bytes.length);
    void fixed.writable.getWriter().write(half);
    const stalledDeclared = uploadDelta(declared.token, declared.task, fixed.readable);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await uploadDelta(honest.token, honest.task, delta([2, 2, 2, 2], { examples: 1 }))).status).toBe(202);
    for (const stalled of [stalledChunked, stalledDeclared]) {
      const refused = await stalled;
      expect(refused.status).toBe(408);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("upload_stalled");
    }
    // The devices that stalled send their deltas again on the same tickets: nothing of the stalled ones was counted.
    expect((await uploadDelta(chunked.token, chunked.task, delta([4, 4, 4, 4], { examples: 1 }))).status).toBe(202);
    expect((await uploadDelta(declared.token, declared.task, delta([2, 2, 2, 2], { examples: 1 }))).status).toBe(202);
    expect((await uploadDelta(late.token, late.task, delta([0, 0, 0, 0], { examples: 1 }))).status).toBe(202);
    await waitForRound(apiKey, job.id, 1, "closed");
    const served = await weightsOf(await api(`/v1/jobs/${job.id}/model/weights.bin`, { token: apiKey }));
    served.forEach((w, i) => expect(w).toBeCloseTo(SEED[i] + 2, 5));
  });

  it("counts at the deadline an update a shard folded whose commit was lost, and refuses its retry once the round has closed", async () => {
    // Two reports of three close the round at its deadline; the job has heard of one.
    const { apiKey, job } = await runningJob({ clientsPerRound: 3, minReportFraction: 0.5, roundDeadlineSeconds: 60 });
    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect((await uploadDelta(a.token, taskA, delta([2, 2, 2, 2]))).status).toBe(202);
    // b's upload is folded and written by its shard, and the shard's call to the job is lost on the way.
    const claims = tickets("test-token-secret").verify(taskB.ticket)!;
    const restore = await runInDurableObject(shardStub(job.id, claims.shard), (instance) => loseNextCommit(instance));
    const lost = await uploadDelta(b.token, taskB, delta([4, 4, 4, 4], { examples: 3 }));
    await runInDurableObject(shardStub(job.id, claims.shard), () => restore());
    expect(lost.status).toBe(500);
    expect((await storedPartial(job.id, claims.shard))?.count).toBe(claims.shard === tickets("test-token-secret").verify(taskA.ticket)!.shard ? 2 : 1);
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
