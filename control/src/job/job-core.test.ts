import { describe, expect, it } from "vitest";
import { decodeWeightsHeader, encodeWeights, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore, ROUND_DEADLINE } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation } from "../aggregation/in-process-aggregation.js";
import { codeOf } from "../../test/error-code.js";

const tensors = [{ name: "w", shape: [2, 2], dtype: "float32" as const }];
const specInput: JobSpecInput = {
  name: "unit",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
  plan: { rounds: 2, clientsPerRound: 2, overCommit: 1.5, minReportFraction: 0.5, roundDeadlineSeconds: 60, localEpochs: 1 },
};

function setup(plan: Partial<JobSpecInput["plan"]> = {}) {
  const store = new MemoryJobStore();
  const alarms: (number | null)[] = [];
  const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: (at) => alarms.push(at) });
  let n = 0;
  const core = new JobCore(store, deadlines, { newTicket: () => `ticket-${++n}` });
  core.create({ id: "job_test0001", tenant: "acme", spec: jobSpecSchema.parse({ ...specInput, plan: { ...specInput.plan, ...plan } }), now: 0 });
  core.setInitialModel("base-hash", 0);
  return { core, store, alarms, deadlines, shards: new InProcessAggregation(core) };
}

const delta = (values: number[], meta: Record<string, unknown> = { examples: 1 }) =>
  encodeWeights({ kind: "delta", codec: "fp32", tensors, meta }, Float32Array.from(values));

function claimTicket(core: JobCore, clientId: string, now = 1): string {
  const claim = core.claim(clientId, now);
  if (claim.kind !== "task") throw new Error(`expected a task, got ${claim.reason}`);
  return claim.ticket;
}

describe("JobCore", () => {
  it("binds at most demand x over-commit devices to a round", () => {
    const { core } = setup();
    expect(["a", "b", "c"].map((id) => core.claim(id, 1).kind)).toEqual(["task", "task", "task"]);
    const fourth = core.claim("d", 1);
    expect(fourth).toMatchObject({ kind: "wait", reason: "round_full" });
  });

  it("asks a device that has reported to come back soon, since the round can close at any report", () => {
    const { core, shards } = setup();
    shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2);
    expect(core.claim("a", 3)).toMatchObject({ kind: "wait", reason: "already_reported", retryAfterMs: 2_000 });
    expect(core.claim("a", 59_800)).toMatchObject({ kind: "wait", reason: "already_reported", retryAfterMs: 500 });
  });

  it("gives a device that checks in again the same ticket", () => {
    const { core } = setup();
    expect(claimTicket(core, "a")).toBe(claimTicket(core, "a"));
  });

  it("weights the FedAvg sum by example count and closes the round at demand", async () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    const b = claimTicket(core, "b");
    shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1], { examples: 1, trainLoss: 2 }) }, 2);
    const receipt = shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([4, 4, 4, 4], { examples: 3, trainLoss: 1 }) }, 3);
    expect(receipt).toMatchObject({ reported: 2, demand: 2 });
    expect(core.pendingAggregation()?.baseHash).toBe("base-hash");
    expect(core.status("acme").rounds[0]).toMatchObject({ status: "aggregating", reported: 2, examples: 4, trainLoss: 1.25 });
    const next = await shards.close(new Float32Array([10, 10, 10, 10]), "m1", 4);
    expect(Array.from(next)).toEqual([13.25, 13.25, 13.25, 13.25]);
  });

  it("accepts an update once and refuses a reused ticket", () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2);
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 3))).toBe("ticket_used");
    expect(core.status("acme").rounds[0].reported).toBe(1);
  });

  it("refuses a ticket presented by another client or for another round", () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 2, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
    expect(codeOf(() => shards.submit({ ticket: "forged", clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
  });

  it("refuses a malformed or non-finite delta and leaves the aggregate unchanged", () => {
    const { core, shards } = setup({ clientsPerRound: 3 });
    shards.submit({ ticket: claimTicket(core, "b"), clientId: "b", round: 1, body: delta([1, 2, 3, 4]) }, 2);
    const a = claimTicket(core, "a");
    const wrongShape = encodeWeights({ kind: "delta", codec: "fp32", tensors: [{ name: "w", shape: [4], dtype: "float32" }], meta: { examples: 1 } }, new Float32Array(4));
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: wrongShape }, 2))).toBe("invalid_update");
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, Number.NaN, 1, 1]) }, 2))).toBe("invalid_update");
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1], { examples: 0 }) }, 2))).toBe("invalid_update");
    expect(codeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: new Uint8Array([1, 2, 3]) }, 2))).toBe("invalid_update");
    const stored = shards.stores.get(0)!;
    expect(Array.from(stored.loadSum(4))).toEqual([1, 2, 3, 4]);
    expect(stored.sumWrites).toBe(1);
    expect(core.status("acme").rounds[0].reported).toBe(1);
  });

  it("folds fp16, int8 and top-k deltas in as the values they encode", () => {
    const { core, shards } = setup({ clientsPerRound: 4 });
    const encoded = (codec: "fp16" | "int8", sparse?: { k: number }) =>
      encodeWeights({ kind: "delta", codec, sparse, tensors, meta: { examples: 1 } }, Float32Array.of(0.5, -0.25, 1, 0));
    shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body: encoded("fp16") }, 2);
    shards.submit({ ticket: claimTicket(core, "b"), clientId: "b", round: 1, body: encoded("int8") }, 2);
    shards.submit({ ticket: claimTicket(core, "c"), clientId: "c", round: 1, body: encoded("fp16", { k: 1 }) }, 2);
    // fp16 is exact for these values; int8 with scale 1/127 is within half a step; top-1 keeps only the 1.
    const sum = Array.from(shards.stores.get(0)!.loadSum(4));
    const expected = [0.5 + 0.5, -0.25 - 0.25, 1 + 1 + 1, 0];
    sum.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThanOrEqual(0.5 / 127));
  });

  it("refuses an int8 delta whose scale is not a number, and leaves the aggregate unchanged", () => {
    const { core, shards } = setup();
    const body = encodeWeights({ kind: "delta", codec: "int8", tensors, meta: { examples: 1 } }, Float32Array.of(1, 2, 3, 4));
    const { dataOffset } = decodeWeightsHeader(body);
    new DataView(body.buffer).setFloat32(dataOffset, Number.NaN, true);
    expect(codeOf(() => shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body }, 2))).toBe("invalid_update");
    expect(shards.stores.get(0)!.loadPartial()).toBeNull();
    expect(core.status("acme").rounds[0].reported).toBe(0);
  });

  it("closes a round at its deadline when enough devices reported, and refuses late updates as stale", () => {
    const { core, deadlines, shards } = setup();
    const a = claimTicket(core, "a");
    const b = claimTicket(core, "b");
    shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([2, 2, 2, 2]) }, 2);
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    expect(core.pendingAggregation()?.key).toEqual({ round: 1, attempt: 0 });
    expect(shards.shard(0).seal({ round: 1, attempt: 0 }).meta).toMatchObject({ count: 1, weight: 1 });
    expect(codeOf(() => shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 61_000))).toBe("round_closed");
  });

  it("retries a round whose deadline passes with too few reports", () => {
    const { core, deadlines } = setup();
    claimTicket(core, "a");
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    const status = core.status("acme");
    expect(status.rounds.map((r) => [r.round, r.attempt, r.status])).toEqual([[1, 0, "retried"], [1, 1, "open"]]);
    expect(core.claim("a", 61_000).kind).toBe("task");
  });

  it("opens the next round after aggregation and finishes after the last", () => {
    const { core, shards } = setup();
    for (const round of [1, 2]) {
      for (const id of ["a", "b"]) {
        const ticket = claimTicket(core, id, round * 100);
        shards.submit({ ticket, clientId: id, round, body: delta([1, 1, 1, 1]) }, round * 100 + 1);
      }
      core.onAlarm(round * 100 + 2);
      core.completeAggregation(round, `model-${round}`, round * 100 + 3);
    }
    const status = core.status("acme");
    expect(status).toMatchObject({ state: "done", modelVersion: 2, modelHash: "model-2" });
    expect(core.claim("c", 1_000)).toMatchObject({ kind: "wait", reason: "job_not_running" });
  });

  it("frees the slot of a device that does not report within its lease, for another device", () => {
    const { core, shards } = setup({ leaseSeconds: 10 });
    const first = core.claim("a", 1);
    expect(first).toMatchObject({ kind: "task", deadline: 10_001 });
    claimTicket(core, "b", 5_000);
    claimTicket(core, "c", 5_000);
    expect(core.claim("d", 5_000)).toMatchObject({ kind: "wait", reason: "round_full" });
    // a's lease has run out: its late update is refused, and d takes the slot.
    expect(codeOf(() => shards.submit({ ticket: (first as { ticket: string }).ticket, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 10_002))).toBe("round_closed");
    expect(core.claim("d", 10_002)).toMatchObject({ kind: "task", deadline: 20_002 });
    expect(core.claim("e", 10_002)).toMatchObject({ kind: "wait", reason: "round_full" });
    expect(core.status("acme").rounds[0].bound).toBe(4);
  });

  it("binds a device whose lease ran out again, with its ticket and a new lease", () => {
    const { core, shards } = setup({ leaseSeconds: 10 });
    const ticket = claimTicket(core, "a", 1);
    expect(core.claim("a", 20_000)).toMatchObject({ kind: "task", ticket, deadline: 30_000 });
    shards.submit({ ticket, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 25_000);
    expect(core.status("acme").rounds[0]).toMatchObject({ bound: 1, reported: 1 });
  });

  it("stops binding when the selection timeout passes, and still takes the bound devices' reports", () => {
    const { core, shards } = setup({ selectionTimeoutSeconds: 5 });
    const a = claimTicket(core, "a", 1_000);
    expect(core.claim("b", 5_001)).toMatchObject({ kind: "wait", reason: "selection_closed" });
    expect(claimTicket(core, "a", 5_001)).toBe(a);
    expect(shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 6_000)).toMatchObject({ reported: 1 });
  });

  it("applies a changed demand from the next round on", () => {
    const { core, shards } = setup();
    core.update({ clientsPerRound: 3 }, 1);
    for (const id of ["a", "b"]) shards.submit({ ticket: claimTicket(core, id, 2), clientId: id, round: 1, body: delta([1, 1, 1, 1]) }, 3);
    core.onAlarm(4);
    core.completeAggregation(1, "model-1", 5);
    expect(core.status("acme").rounds.map((r) => [r.round, r.demand])).toEqual([[1, 2], [2, 3]]);
    core.cancel(6);
    expect(codeOf(() => core.update({ clientsPerRound: 4 }, 7))).toBe("job_not_running");
  });

  it("carries the strategy's state from round to round (FedAvgM's momentum)", async () => {
    const store = new MemoryJobStore();
    const core = new JobCore(store, new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => crypto.randomUUID() });
    const spec = jobSpecSchema.parse({ ...specInput, plan: { ...specInput.plan, rounds: 3 }, aggregation: { strategy: "fedavgm", momentum: 0.5 } });
    core.create({ id: "job_momentum01", tenant: "acme", spec, now: 0 });
    core.setInitialModel("m0", 0);
    const shards = new InProcessAggregation(core);
    let model: Float32Array = new Float32Array(4);
    for (const round of [1, 2]) {
      for (const id of ["a", "b"]) shards.submit({ ticket: claimTicket(core, id, round * 10), clientId: id, round, body: delta([1, 1, 1, 1]) }, round * 10);
      model = await shards.close(model, `m${round}`, round * 10 + 1);
    }
    // Mean delta 1 both rounds: velocity 1, then 0.5 x 1 + 1 = 1.5; the model 0 -> 1 -> 2.5.
    expect(Array.from(model)).toEqual([2.5, 2.5, 2.5, 2.5]);
    expect(store.loadStrategyState()).toMatchObject({ strategy: "fedavgm", velocity: Float32Array.of(1.5, 1.5, 1.5, 1.5) });
  });

  describe("asynchronous (FedBuff)", () => {
    function buffered() {
      const store = new MemoryJobStore();
      const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} });
      let n = 0;
      const core = new JobCore(store, deadlines, { newTicket: () => `t${++n}` });
      const spec = jobSpecSchema.parse({ ...specInput, plan: { ...specInput.plan, rounds: 5, clientsPerRound: 3, overCommit: 1 }, aggregation: { strategy: "fedbuff", bufferSize: 2 } });
      core.create({ id: "job_fedbuff01", tenant: "acme", spec, now: 0 });
      core.setInitialModel("m0", 0);
      return { core, store, deadlines, shards: new InProcessAggregation(core) };
    }

    it("lets ceil(clientsPerRound x overCommit) devices train at once, across steps", () => {
      const { core } = buffered();
      for (const id of ["a", "b", "c"]) claimTicket(core, id, 1);
      expect(core.claim("d", 1)).toMatchObject({ kind: "wait", reason: "round_full" });
      expect(core.status("acme").rounds[0]).toMatchObject({ demand: 2, bound: 3 });
    });

    it("applies every K updates, taking updates from earlier steps discounted by staleness", async () => {
      const { core, shards } = buffered();
      const report = (id: string, ticket: string, round: number, values: number[], now: number) =>
        shards.submit({ ticket, clientId: id, round, body: delta(values) }, now);
      const [a, b, c] = ["a", "b", "c"].map((id) => claimTicket(core, id, 1));
      report("a", a, 1, [1, 1, 1, 1], 2);
      report("b", b, 1, [3, 3, 3, 3], 2);
      // Step 1: both fresh: (1 x 1 + 1 x 3) / 2 examples = 2.
      const first = await shards.close(new Float32Array(4), "m1", 3);
      expect(Array.from(first)).toEqual([2, 2, 2, 2]);
      // Step 2: c trained from step 1's model (staleness 1, weight 1 / sqrt 2); a has reported and takes a new task.
      const a2 = claimTicket(core, "a", 4);
      expect(core.claim("a", 4)).toMatchObject({ kind: "task", ticket: a2, round: 2, modelHash: "m1" });
      report("c", c, 1, [2, 2, 2, 2], 5);
      report("a", a2, 2, [4, 4, 4, 4], 5);
      const second = await shards.close(first, "m2", 6);
      const expected = 2 + (2 / Math.SQRT2 + 4) / 2;
      second.forEach((value) => expect(value).toBeCloseTo(expected, 5));
    });

    it("waits another deadline when no update came, instead of retrying the step", () => {
      const { core, deadlines } = buffered();
      const first = deadlines.get(ROUND_DEADLINE)!;
      core.onAlarm(first);
      expect(core.status("acme").rounds.map((r) => [r.round, r.attempt, r.status])).toEqual([[1, 0, "open"]]);
      expect(deadlines.get(ROUND_DEADLINE)).toBe(first + 60_000);
    });
  });

  describe("sharded aggregation", () => {
    it("spreads devices over the shards and combines their partial sums into the FedAvg of all updates", async () => {
      const { core, shards } = setup({ clientsPerRound: 12, overCommit: 1, aggregatorShards: 3 });
      const ids = Array.from({ length: 12 }, (_, i) => `device-${i}`);
      ids.forEach((id, i) => shards.submit({ ticket: claimTicket(core, id), clientId: id, round: 1, body: delta([i, 1, 0, -i], { examples: i + 1 }) }, 2));
      expect([...shards.stores.keys()].sort()).toEqual([0, 1, 2]);
      for (const store of shards.stores.values()) expect(store.loadPartial()!.count).toBeGreaterThan(0);
      const next = await shards.close(new Float32Array(4), "m1", 3);
      // Weighted mean of i with weights i + 1, i = 0..11: sum i(i+1) / sum (i+1) = 572 / 78.
      expect(next[0]).toBeCloseTo(572 / 78, 5);
      expect(Array.from(next.subarray(1))).toEqual([1, 0, -next[0]]);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", reported: 12, examples: 78 });
      expect([...shards.stores.values()].map((s) => s.loadPartial())).toEqual([null, null, null]);
    });

    it("counts, before the deadline decides, an update its shard folded whose commit never reached the job", async () => {
      // Demand 4, half must report: the committed update alone would have the round retried.
      const { core, deadlines, shards } = setup({ clientsPerRound: 4 });
      const a = claimTicket(core, "a");
      const b = claimTicket(core, "b");
      shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([2, 2, 2, 2]) }, 2);
      const admission = core.admitUpdate({ ticket: b, clientId: "b", round: 1 }, 3);
      shards.shard(admission.shard).fold(admission, delta([4, 4, 4, 4], { examples: 3 }));
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "open", reported: 1 });
      await shards.alarm(deadlines.get(ROUND_DEADLINE)!);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "aggregating", reported: 2 });
      const next = await shards.close(new Float32Array(4), "m1", 61_000);
      expect(Array.from(next)).toEqual([3.5, 3.5, 3.5, 3.5]);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", reported: 2, examples: 4 });
      // The lost commit arrives late: it is answered as accepted, and counted once.
      expect(core.commitUpdate({ ticket: b, clientId: "b", key: admission.key, folded: { ticket: b, examples: 3, trainLoss: null, bytesIn: 1, bytesDown: 0 } }, 61_001)).toMatchObject({ accepted: true, reported: 2 });
    });

    it("answers a repeated commit as the first, and refuses one for a retried attempt", () => {
      const { core, deadlines, shards } = setup({ clientsPerRound: 3 });
      const a = claimTicket(core, "a");
      const first = shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2);
      const folded = { ticket: a, examples: 1, trainLoss: null, bytesIn: 1, bytesDown: 0 };
      expect(core.commitUpdate({ ticket: a, clientId: "a", key: { round: 1, attempt: 0 }, folded }, 3)).toEqual(first);
      const b = claimTicket(core, "b");
      const admission = core.admitUpdate({ ticket: b, clientId: "b", round: 1 }, 3);
      shards.shard(admission.shard).fold(admission, delta([1, 1, 1, 1]));
      core.onAlarm(deadlines.get(ROUND_DEADLINE)!); // 1 of 3 reported, below half: the round is retried
      expect(codeOf(() => core.commitUpdate({ ticket: b, clientId: "b", key: admission.key, folded: { ...folded, ticket: b } }, 61_000))).toBe("round_closed");
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "retried", reported: 1 });
    });
  });

  it("hides a job from another tenant", () => {
    const { core } = setup();
    expect(codeOf(() => core.status("other"))).toBe("job_not_found");
  });
});
