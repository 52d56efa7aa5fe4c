import { describe, expect, it } from "vitest";
import { decodeWeightsHeader, encodeWeights, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore, ROUND_DEADLINE, SELECTION_DEADLINE } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { asyncCodeOf, codeOf } from "../../test/error-code.js";

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
  const core = new JobCore(store, deadlines, { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets });
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
  it("binds at most demand x over-commit devices to a round", async () => {
    const { core } = setup();
    expect(["a", "b", "c"].map((id) => core.claim(id, 1).kind)).toEqual(["task", "task", "task"]);
    const fourth = core.claim("d", 1);
    expect(fourth).toMatchObject({ kind: "wait", reason: "round_full" });
  });

  it("asks a device that has reported to come back soon, since the round can close at any report", async () => {
    const { core, shards } = setup();
    await shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2);
    expect(core.claim("a", 3)).toMatchObject({ kind: "wait", reason: "already_reported", retryAfterMs: 2_000 });
    expect(core.claim("a", 59_800)).toMatchObject({ kind: "wait", reason: "already_reported", retryAfterMs: 500 });
  });

  it("gives a device that checks in again the same ticket", async () => {
    const { core } = setup();
    expect(claimTicket(core, "a")).toBe(claimTicket(core, "a"));
  });

  it("weights the FedAvg sum by example count and closes the round at demand", async () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    const b = claimTicket(core, "b");
    await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1], { examples: 1, trainLoss: 2 }) }, 2);
    const receipt = await shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([4, 4, 4, 4], { examples: 3, trainLoss: 1 }) }, 3);
    expect(receipt).toMatchObject({ reported: 2, demand: 2 });
    expect(core.pendingAggregation()?.baseHash).toBe("base-hash");
    expect(core.status("acme").rounds[0]).toMatchObject({ status: "aggregating", reported: 2, examples: 4, trainLoss: 1.25 });
    const next = await shards.close(new Float32Array([10, 10, 10, 10]), "m1", 4);
    expect(Array.from(next)).toEqual([13.25, 13.25, 13.25, 13.25]);
  });

  it("accepts an update once and refuses a reused ticket", async () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2);
    expect(await asyncCodeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 3))).toBe("ticket_used");
    expect(core.status("acme").rounds[0].reported).toBe(1);
  });

  it("refuses a ticket presented by another client or for another round", async () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a");
    expect(await asyncCodeOf(() => shards.submit({ ticket: a, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
    expect(await asyncCodeOf(() => shards.submit({ ticket: a, clientId: "a", round: 2, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
    expect(await asyncCodeOf(() => shards.submit({ ticket: "forged", clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_invalid");
  });

  it("refuses a malformed or non-finite delta and leaves the aggregate unchanged", async () => {
    const { core, shards } = setup({ clientsPerRound: 4 });
    await shards.submit({ ticket: claimTicket(core, "b"), clientId: "b", round: 1, body: delta([1, 2, 3, 4]) }, 2);
    const wrongShape = encodeWeights({ kind: "delta", codec: "fp32", tensors: [{ name: "w", shape: [4], dtype: "float32" }], meta: { examples: 1 } }, new Float32Array(4));
    // Each refused body spends its ticket (a device of its own each); the replay of one is ticket_used.
    const bad = [wrongShape, delta([1, Number.NaN, 1, 1]), delta([1, 1, 1, 1], { examples: 0 }), new Uint8Array([1, 2, 3])];
    for (const [i, body] of bad.entries()) {
      const id = `bad-${i}`;
      expect(await asyncCodeOf(() => shards.submit({ ticket: claimTicket(core, id), clientId: id, round: 1, body }, 2))).toBe("invalid_update");
    }
    expect(await asyncCodeOf(() => shards.submit({ ticket: claimTicket(core, "bad-0"), clientId: "bad-0", round: 1, body: delta([1, 1, 1, 1]) }, 2))).toBe("ticket_used");
    const stored = shards.stores.get(0)!;
    expect(Array.from(stored.loadSum(4))).toEqual([1, 2, 3, 4]);
    expect(stored.sumWrites).toBe(1);
    expect(core.status("acme").rounds[0].reported).toBe(1);
  });

  it("folds fp16, int8 and top-k deltas in as the values they encode", async () => {
    const { core, shards } = setup({ clientsPerRound: 4 });
    const encoded = (codec: "fp16" | "int8", sparse?: { k: number }) =>
      encodeWeights({ kind: "delta", codec, sparse, tensors, meta: { examples: 1 } }, Float32Array.of(0.5, -0.25, 1, 0));
    await shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body: encoded("fp16") }, 2);
    await shards.submit({ ticket: claimTicket(core, "b"), clientId: "b", round: 1, body: encoded("int8") }, 2);
    await shards.submit({ ticket: claimTicket(core, "c"), clientId: "c", round: 1, body: encoded("fp16", { k: 1 }) }, 2);
    // fp16 is exact for these values; int8 with scale 1/127 is within half a step; top-1 keeps only the 1.
    const sum = Array.from(shards.stores.get(0)!.loadSum(4));
    const expected = [0.5 + 0.5, -0.25 - 0.25, 1 + 1 + 1, 0];
    sum.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThanOrEqual(0.5 / 127));
  });

  it("refuses an int8 delta whose scale is not a number, and leaves the aggregate unchanged", async () => {
    const { core, shards } = setup();
    const body = encodeWeights({ kind: "delta", codec: "int8", tensors, meta: { examples: 1 } }, Float32Array.of(1, 2, 3, 4));
    const { dataOffset } = decodeWeightsHeader(body);
    new DataView(body.buffer).setFloat32(dataOffset, Number.NaN, true);
    expect(await asyncCodeOf(() => shards.submit({ ticket: claimTicket(core, "a"), clientId: "a", round: 1, body }, 2))).toBe("invalid_update");
    expect(shards.stores.get(0)!.loadPartial()).toBeNull();
    expect(core.status("acme").rounds[0].reported).toBe(0);
  });

  it("closes a round at its deadline when enough devices reported, and refuses late updates as stale", async () => {
    const { core, deadlines, shards } = setup();
    const a = claimTicket(core, "a");
    const b = claimTicket(core, "b");
    await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([2, 2, 2, 2]) }, 2);
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    expect(core.pendingAggregation()?.key).toEqual({ round: 1, attempt: 0 });
    expect((await shards.shard(0).seal({ round: 1, attempt: 0 })).meta).toMatchObject({ count: 1, weight: 1 });
    expect(await asyncCodeOf(() => shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 61_000))).toBe("round_closed");
  });

  it("retries a round whose deadline passes with too few reports, and names the attempt in its tasks", async () => {
    const { core, deadlines } = setup();
    expect(core.claim("a", 1)).toMatchObject({ kind: "task", round: 1, attempt: 0 });
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    const status = core.status("acme");
    expect(status.rounds.map((r) => [r.round, r.attempt, r.status])).toEqual([[1, 0, "retried"], [1, 1, "open"]]);
    expect(core.claim("a", 61_000)).toMatchObject({ kind: "task", round: 1, attempt: 1 });
  });

  it("stamps a round's phases: selection until its demand is bound, training until it has its reports, then aggregation", async () => {
    const { core, shards } = setup();
    const a = claimTicket(core, "a", 10);
    expect(core.status("acme").rounds[0]).toMatchObject({ openedAt: 0, selectedAt: null, aggregatingAt: null });
    const b = claimTicket(core, "b", 20);
    claimTicket(core, "c", 25);
    await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 30);
    expect(core.status("acme").rounds[0]).toMatchObject({ selectedAt: 20, aggregatingAt: null });
    await shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 40);
    core.onAlarm(41);
    core.completeAggregation(1, "model-1", 55);
    expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", openedAt: 0, selectedAt: 20, aggregatingAt: 40, closedAt: 55 });
  });

  it("opens the next round after aggregation and finishes after the last", async () => {
    const { core, shards } = setup();
    for (const round of [1, 2]) {
      for (const id of ["a", "b"]) {
        const ticket = claimTicket(core, id, round * 100);
        await shards.submit({ ticket, clientId: id, round, body: delta([1, 1, 1, 1]) }, round * 100 + 1);
      }
      core.onAlarm(round * 100 + 2);
      core.completeAggregation(round, `model-${round}`, round * 100 + 3);
    }
    const status = core.status("acme");
    expect(status).toMatchObject({ state: "done", modelVersion: 2, modelHash: "model-2" });
    expect(core.claim("c", 1_000)).toMatchObject({ kind: "wait", reason: "job_not_running" });
  });

  it("frees the slot of a device that does not report within its lease, for another device", async () => {
    const { core, shards } = setup({ leaseSeconds: 10 });
    const first = core.claim("a", 1);
    expect(first).toMatchObject({ kind: "task", deadline: 10_001 });
    claimTicket(core, "b", 5_000);
    claimTicket(core, "c", 5_000);
    expect(core.claim("d", 5_000)).toMatchObject({ kind: "wait", reason: "round_full" });
    // a's lease has run out: its late update is refused, and d takes the slot.
    expect(await asyncCodeOf(() => shards.submit({ ticket: (first as { ticket: string }).ticket, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 10_002))).toBe("round_closed");
    expect(core.claim("d", 10_002)).toMatchObject({ kind: "task", deadline: 20_002 });
    expect(core.claim("e", 10_002)).toMatchObject({ kind: "wait", reason: "round_full" });
    expect(core.status("acme").rounds[0].bound).toBe(4);
  });

  it("binds a device whose lease ran out again, with its ticket and a new lease", async () => {
    const { core, shards } = setup({ leaseSeconds: 10 });
    const first = claimTicket(core, "a", 1);
    const ticket = claimTicket(core, "a", 20_000);
    // The same assignment (the ticket's id), signed again for the new lease; the old ticket's lease has run out.
    expect(inProcessTickets.verify(ticket)).toMatchObject({ id: inProcessTickets.verify(first)!.id, leaseUntil: 30_000 });
    expect(await asyncCodeOf(() => shards.submit({ ticket: first, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 25_000))).toBe("round_closed");
    await shards.submit({ ticket, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 25_000);
    expect(core.status("acme").rounds[0]).toMatchObject({ bound: 1, reported: 1 });
  });

  it("stops binding when the selection timeout passes, and still takes the bound devices' reports", async () => {
    const { core, shards } = setup({ selectionTimeoutSeconds: 5 });
    const a = claimTicket(core, "a", 1_000);
    expect(core.claim("b", 5_001)).toMatchObject({ kind: "wait", reason: "selection_closed" });
    expect(claimTicket(core, "a", 5_001)).toBe(a);
    expect(await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 6_000)).toMatchObject({ reported: 1 });
  });

  it("retries an attempt at the end of its selection window when it holds fewer devices than the reports it needs, and keeps one that can still close", async () => {
    // Demand 2, half must report: one device bound is enough to go on, none is not.
    const { core, deadlines, shards } = setup({ selectionTimeoutSeconds: 5 });
    expect(deadlines.get(SELECTION_DEADLINE)).toBe(5_000);
    expect(core.onAlarm(5_000)).not.toBeNull();
    expect(core.status("acme").rounds.map((r) => [r.attempt, r.status, r.closedAt])).toEqual([[0, "retried", 5_000], [1, "open", null]]);
    expect(deadlines.get(SELECTION_DEADLINE)).toBe(10_000);
    expect(deadlines.get(ROUND_DEADLINE)).toBe(65_000);

    const ticket = claimTicket(core, "a", 6_000);
    expect(core.onAlarm(10_000)).toBeNull();
    expect(core.status("acme").rounds.at(-1)).toMatchObject({ attempt: 1, status: "open", bound: 1 });
    expect(await shards.submit({ ticket, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 11_000)).toMatchObject({ reported: 1 });
  });

  it("with a scarcity plan, asks for half the devices after failed attempts, down to the floor, and the next round for its full demand", async () => {
    const { core, deadlines, shards } = setup({ clientsPerRound: 8, minReportFraction: 1, scarcity: { shrinkAfterAttempts: 1, minClientsPerRound: 3 } });
    for (let i = 0; i < 3; i++) core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    expect(core.status("acme").rounds.map((r) => [r.attempt, r.demand, r.status])).toEqual([[0, 8, "retried"], [1, 4, "retried"], [2, 3, "retried"], [3, 3, "open"]]);
    expect(core.currentDemand()).toEqual({ demand: 3, minimum: 3 });
    const now = deadlines.get(ROUND_DEADLINE)! - 1_000;
    for (const id of ["a", "b", "c"]) await shards.submit({ ticket: claimTicket(core, id, now), clientId: id, round: 1, body: delta([1, 1, 1, 1]) }, now);
    core.completeAggregation(1, "model-1", now + 1);
    expect(core.status("acme").rounds.at(-1)).toMatchObject({ round: 2, attempt: 0, demand: 8, status: "open" });
    expect(core.currentDemand()).toEqual({ demand: 8, minimum: 8 });
  });

  it("with keepShrunkDemand, lowers the job's demand to what its shrunk round closed with, and an owner may raise it again", async () => {
    const { core, deadlines, shards } = setup({ clientsPerRound: 4, minReportFraction: 1, scarcity: { shrinkAfterAttempts: 1, keepShrunkDemand: true } });
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!);
    const now = deadlines.get(ROUND_DEADLINE)! - 1_000;
    for (const id of ["a", "b"]) await shards.submit({ ticket: claimTicket(core, id, now), clientId: id, round: 1, body: delta([1, 1, 1, 1]) }, now);
    core.completeAggregation(1, "model-1", now + 1);
    const status = core.status("acme");
    expect(status.rounds.map((r) => [r.round, r.attempt, r.demand, r.status])).toEqual([[1, 0, 4, "retried"], [1, 1, 2, "closed"], [2, 0, 2, "open"]]);
    expect(status.spec.plan.clientsPerRound).toBe(2);
    core.update({ clientsPerRound: 4 }, now + 2);
    expect(core.status("acme").spec.plan.clientsPerRound).toBe(4);
  });

  it("with a time limit in its scarcity plan, fails a job that closed no round for that long, and says why", () => {
    const { core, deadlines } = setup({ roundDeadlineSeconds: 60, scarcity: { failAfterSeconds: 100 } });
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!); // 60 s without a closed round: retried
    expect(core.status("acme")).toMatchObject({ state: "running" });
    core.onAlarm(deadlines.get(ROUND_DEADLINE)!); // 120 s: over the limit
    const status = core.status("acme");
    expect(status.state).toBe("failed");
    expect(status.failure).toBe("no round closed for 120 s (the job's limit is 100 s): round 1 retried 2 times, the last with 0 of the 1 reports it needed");
    expect(status.rounds.map((r) => r.status)).toEqual(["retried", "retried"]);
    expect(deadlines.get(ROUND_DEADLINE)).toBeUndefined();
    expect(core.claim("a", 121_000)).toMatchObject({ kind: "wait", reason: "job_not_running" });
  });

  it("applies a changed demand from the next round on", async () => {
    const { core, shards } = setup();
    core.update({ clientsPerRound: 3 }, 1);
    for (const id of ["a", "b"]) await shards.submit({ ticket: claimTicket(core, id, 2), clientId: id, round: 1, body: delta([1, 1, 1, 1]) }, 3);
    core.onAlarm(4);
    core.completeAggregation(1, "model-1", 5);
    expect(core.status("acme").rounds.map((r) => [r.round, r.demand])).toEqual([[1, 2], [2, 3]]);
    core.cancel(6);
    expect(codeOf(() => core.update({ clientsPerRound: 4 }, 7))).toBe("job_not_running");
  });

  it("carries the strategy's state from round to round (FedAvgM's momentum)", async () => {
    const store = new MemoryJobStore();
    const core = new JobCore(store, new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => crypto.randomUUID(), tickets: inProcessTickets });
    const spec = jobSpecSchema.parse({ ...specInput, plan: { ...specInput.plan, rounds: 3 }, aggregation: { strategy: "fedavgm", momentum: 0.5 } });
    core.create({ id: "job_momentum01", tenant: "acme", spec, now: 0 });
    core.setInitialModel("m0", 0);
    const shards = new InProcessAggregation(core);
    let model: Float32Array = new Float32Array(4);
    for (const round of [1, 2]) {
      for (const id of ["a", "b"]) await shards.submit({ ticket: claimTicket(core, id, round * 10), clientId: id, round, body: delta([1, 1, 1, 1]) }, round * 10);
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
      const core = new JobCore(store, deadlines, { newTicket: () => `t${++n}`, tickets: inProcessTickets });
      const spec = jobSpecSchema.parse({ ...specInput, plan: { ...specInput.plan, rounds: 5, clientsPerRound: 3, overCommit: 1 }, aggregation: { strategy: "fedbuff", bufferSize: 2 } });
      core.create({ id: "job_fedbuff01", tenant: "acme", spec, now: 0 });
      core.setInitialModel("m0", 0);
      return { core, store, deadlines, shards: new InProcessAggregation(core) };
    }

    it("lets ceil(clientsPerRound x overCommit) devices train at once, across steps", async () => {
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
      await report("a", a, 1, [1, 1, 1, 1], 2);
      await report("b", b, 1, [3, 3, 3, 3], 2);
      // Step 1: both fresh: (1 x 1 + 1 x 3) / 2 examples = 2.
      const first = await shards.close(new Float32Array(4), "m1", 3);
      expect(Array.from(first)).toEqual([2, 2, 2, 2]);
      // Step 2: c trained from step 1's model (staleness 1, weight 1 / sqrt 2); a has reported and takes a new task.
      const a2 = claimTicket(core, "a", 4);
      expect(core.claim("a", 4)).toMatchObject({ kind: "task", ticket: a2, round: 2, modelHash: "m1" });
      await report("c", c, 1, [2, 2, 2, 2], 5);
      await report("a", a2, 2, [4, 4, 4, 4], 5);
      const second = await shards.close(first, "m2", 6);
      const expected = 2 + (2 / Math.SQRT2 + 4) / 2;
      second.forEach((value) => expect(value).toBeCloseTo(expected, 5));
    });

    it("waits another deadline when no update came, instead of retrying the step", async () => {
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
      for (const [i, id] of ids.entries()) await shards.submit({ ticket: claimTicket(core, id), clientId: id, round: 1, body: delta([i, 1, 0, -i], { examples: i + 1 }) }, 2);
      expect([...shards.stores.keys()].sort()).toEqual([0, 1, 2]);
      for (const store of shards.stores.values()) expect(store.loadPartial()!.count).toBeGreaterThan(0);
      const next = await shards.close(new Float32Array(4), "m1", 3);
      // Weighted mean of i with weights i + 1, i = 0..11: sum i(i+1) / sum (i+1) = 572 / 78.
      expect(next[0]).toBeCloseTo(572 / 78, 5);
      expect(Array.from(next.subarray(1))).toEqual([1, 0, -next[0]]);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", reported: 12, examples: 78 });
      expect([...shards.stores.values()].map((s) => s.loadPartial())).toEqual([0, 1, 2].map(() => expect.objectContaining({ round: 1, length: 0, sealed: true })));
    });

    it("counts, before the deadline decides, an update its shard folded whose commit never reached the job", async () => {
      // Demand 4, half must report: the committed update alone would have the round retried.
      const { core, deadlines, shards } = setup({ clientsPerRound: 4 });
      const a = claimTicket(core, "a");
      const b = claimTicket(core, "b");
      await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([2, 2, 2, 2]) }, 2);
      shards.lostCommits = 1;
      await expect(shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([4, 4, 4, 4], { examples: 3 }) }, 3)).rejects.toThrow("lost");
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "open", reported: 1 });
      await shards.alarm(deadlines.get(ROUND_DEADLINE)!);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "aggregating", reported: 2 });
      const next = await shards.close(new Float32Array(4), "m1", 61_000);
      expect(Array.from(next)).toEqual([3.5, 3.5, 3.5, 3.5]);
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", reported: 2, examples: 4 });
      // The device retries its upload: it was counted once, and is told so.
      expect(await asyncCodeOf(() => shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([4, 4, 4, 4], { examples: 3 }) }, 61_001))).toBe("round_closed");
      expect(core.status("acme").rounds[0]).toMatchObject({ reported: 2, examples: 4 });
    });

    it("counts a retried upload whose commit was lost once, refuses a repeat of a counted one, and one for a retried attempt", async () => {
      const { core, deadlines, shards } = setup({ clientsPerRound: 3 });
      const a = claimTicket(core, "a");
      shards.lostCommits = 1;
      await expect(shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 2)).rejects.toThrow("lost");
      // The retry finds the shard's earlier fold: counted now, once, and its sum holds it once.
      expect(await shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 3)).toMatchObject({ accepted: true, reported: 1 });
      expect(shards.stores.get(0)!.loadPartial()).toMatchObject({ count: 1, weight: 1 });
      expect(await asyncCodeOf(() => shards.submit({ ticket: a, clientId: "a", round: 1, body: delta([1, 1, 1, 1]) }, 4))).toBe("ticket_used");
      const b = claimTicket(core, "b");
      shards.lostCommits = 1;
      await expect(shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 5)).rejects.toThrow("lost");
      core.onAlarm(deadlines.get(ROUND_DEADLINE)!); // 1 of 3 counted, below half: the round is retried
      expect(await asyncCodeOf(() => shards.submit({ ticket: b, clientId: "b", round: 1, body: delta([1, 1, 1, 1]) }, 6))).toBe("round_closed");
      expect(core.status("acme").rounds[0]).toMatchObject({ status: "retried", reported: 1 });
    });
  });
});
