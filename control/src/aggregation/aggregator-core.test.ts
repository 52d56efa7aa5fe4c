import { describe, expect, it } from "vitest";
import { DEFAULT_ROBUSTNESS, WeightedSum, encodeWeights, type UpdateReceipt } from "@propius/shared";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import { tickets } from "../auth/tickets.js";
import type { FoldRecord, JobPort, StreamedBody } from "./shard-ports.js";
import type { PartialKey } from "./partial-sum.js";
import { seededRandom } from "../simulator/random.js";

const weightSpecs = [{ name: "w", shape: [3], dtype: "float32" as const }];
const round1: PartialKey = { round: 1, attempt: 0 };
const signer = tickets("unit-secret");
const delta = (values: number[], examples = 1) => encodeWeights({ kind: "delta", codec: "fp32", tensors: weightSpecs, meta: { examples, trainLoss: 0.5 } }, Float32Array.from(values));
const ticket = (id: string, key = round1, client = `c-${id}`, leaseUntil = 1_000) => signer.sign({ id, jobId: "job_1", clientId: client, round: key.round, attempt: key.attempt, leaseUntil, shard: 0 });

/** A shard over a memory store, with a job that records each group it is asked to count and when. */
function setup(weighting: "examples" | "uniform" = "examples") {
  const store = new MemoryAggregatorStore();
  const groups: { records: FoldRecord[]; writesBefore: number }[] = [];
  const job: JobPort = {
    describe: async () => ({ jobId: "job_1", weightSpecs, weighting, buffered: false, robustness: DEFAULT_ROBUSTNESS }),
    admit: async () => {
      throw new Error("not a buffered job");
    },
    secureBound: async () => ({ devices: 0, selecting: false, wanted: 0 }),
      clipBound: async () => {
      throw new Error("no norm bound");
    },
    commitFolds: async (_id, records) => {
      groups.push({ records, writesBefore: store.sumWrites });
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { answers: records.map((r) => ({ ok: true as const, value: { accepted: true, jobId: "job_1", round: r.key.round, reported: 1, demand: 1 } satisfies UpdateReceipt })), closed: false };
    },
  };
  const shard = new AggregatorCore(store, job, signer);
  const submit = (id: string, body: Uint8Array, key = round1, now = 10, client = `c-${id}`) =>
    shard.submit({ jobId: "job_1", ticket: ticket(id, key), clientId: client, round: key.round, body: (async function* () { yield body; })() }, 0, now);
  return { store, shard, groups, submit };
}
const bits = (store: MemoryAggregatorStore) => Array.from(new Uint32Array(store.loadSum(3).buffer));

describe("AggregatorCore", () => {
  it("folds updates into a weighted partial sum and keeps each one's figures, not its values", async () => {
    const { store, submit } = setup();
    await submit("t1", delta([1, 2, 3], 2));
    await submit("t2", delta([4, 4, 4], 4));
    expect(Array.from(store.loadSum(3))).toEqual([18, 20, 22]);
    expect(store.loadPartial()).toMatchObject({ weight: 6, examples: 6, count: 2, sealed: false });
    expect(store.listFolded()).toEqual([
      { ticket: "t1", examples: 2, trainLoss: 0.5, bytesIn: delta([1, 2, 3], 2).length, bytesDown: 0 },
      expect.objectContaining({ ticket: "t2", examples: 4 }),
    ]);
  });

  it("weighs every update alike when the job's weighting is uniform", async () => {
    const { store, submit } = setup("uniform");
    await submit("t1", delta([1, 2, 3], 2));
    await submit("t2", delta([4, 4, 4], 40));
    expect(Array.from(store.loadSum(3))).toEqual([5, 6, 7]);
    expect(store.loadPartial()).toMatchObject({ weight: 2, examples: 42, count: 2 });
  });

  it("writes folds that arrive together once, and acknowledges each only after that write", async () => {
    const { store, groups, submit } = setup();
    const answers = await Promise.all(["t1", "t2", "t3", "t4"].map((id, i) => submit(id, delta([i, i, i]))));
    expect(answers.every((a) => a.accepted)).toBe(true);
    // The group waits for the uploads on their way in: one write of the sum for the four, then one count.
    expect(groups.map((g) => g.records.map((r) => r.folded.ticket))).toEqual([["t1", "t2", "t3", "t4"]]);
    expect(groups.map((g) => g.writesBefore)).toEqual([1]);
    expect(store.sumWrites).toBe(1);
    expect(Array.from(store.loadSum(3))).toEqual([6, 6, 6]);
  });

  it("reads request bodies ahead of their turn: a slow one holds up nobody, and the group waits for those still arriving", async () => {
    const { store, groups, shard } = setup();
    const later: Record<string, (bytes: Uint8Array) => void> = {};
    const streamed = (id: string, body: Uint8Array): StreamedBody => ({
      declaredBytes: body.length,
      whole: () => new Promise((resolve) => (later[id] = resolve)),
      chunks: () => {
        throw new Error("a body within the budget is read whole");
      },
    });
    const bodies = ["t1", "t2", "t3"].map((id, i) => [id, delta([i + 1, i + 1, i + 1])] as const);
    const answers = bodies.map(([id, body]) => shard.submit({ jobId: "job_1", ticket: ticket(id), clientId: `c-${id}`, round: 1, body: streamed(id, body) }, 0, 10));
    await new Promise((resolve) => setTimeout(resolve, 1));
    // The first device is slow: the two others arrive, are folded, and wait for it in the group being formed.
    later.t2(bodies[1][1]);
    later.t3(bodies[2][1]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(groups).toEqual([]);
    later.t1(bodies[0][1]);
    expect((await Promise.all(answers)).every((a) => a.accepted)).toBe(true);
    expect(groups.map((g) => g.records.map((r) => r.folded.ticket))).toEqual([["t2", "t3", "t1"]]);
    expect(store.sumWrites).toBe(1);
    expect(Array.from(store.loadSum(3))).toEqual([6, 6, 6]);
  });

  it("folds a ticket once: a retried upload is reported as a repeat and the sum is unchanged", async () => {
    const { store, groups, submit } = setup();
    await submit("t1", delta([1, 1, 1]));
    await submit("t1", delta([5, 5, 5]));
    expect(groups.map((g) => g.records.map((r) => r.repeat))).toEqual([[false], [true]]);
    expect(Array.from(store.loadSum(3))).toEqual([1, 1, 1]);
    expect(store.sumWrites).toBe(1);
  });

  it("refuses a forged, expired, other device's or other shard's ticket before reading the body", async () => {
    const { shard, store, submit } = setup();
    const body = () => (async function* () { throw new Error("the body was read"); })();
    const bad = [
      { ticket: ticket("t1").replace(/.$/, (c) => (c === "A" ? "B" : "A")), clientId: "c-t1" },
      { ticket: "tk.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", clientId: "c-t1" },
      { ticket: ticket("t1"), clientId: "someone-else" },
      { ticket: tickets("another-secret").sign({ id: "t1", jobId: "job_1", clientId: "c-t1", round: 1, attempt: 0, leaseUntil: 1_000, shard: 0 }), clientId: "c-t1" },
      { ticket: signer.sign({ id: "t1", jobId: "job_2", clientId: "c-t1", round: 1, attempt: 0, leaseUntil: 1_000, shard: 0 }), clientId: "c-t1" },
      { ticket: signer.sign({ id: "t1", jobId: "job_1", clientId: "c-t1", round: 1, attempt: 0, leaseUntil: 1_000, shard: 1 }), clientId: "c-t1" },
    ];
    for (const b of bad) await expect(shard.submit({ jobId: "job_1", round: 1, body: body(), ...b }, 0, 10)).rejects.toMatchObject({ code: "ticket_invalid" });
    await expect(submit("t1", delta([1, 1, 1]), round1, 1_001)).rejects.toMatchObject({ code: "round_closed" });
    expect(store.loadPartial()).toBeNull();
  });

  it("leaves the sum bit for bit as it was after any refused body: random bytes, cut headers, lying lengths, a non-finite value at the end", async () => {
    const { store, submit } = setup();
    await submit("t0", delta([0.1, 0.2, 0.3], 3));
    const before = bits(store);
    const good = delta([1, 2, 3]);
    const random = seededRandom(11, 3);
    const hostile: Uint8Array[] = [
      delta([1, 1, Number.NaN]),
      good.subarray(0, 6),
      good.subarray(0, good.length - 1),
      Uint8Array.from([...good, 0]),
      new Uint8Array(0),
    ];
    const lying = good.slice();
    new DataView(lying.buffer).setUint32(4, 1 << 30, true);
    hostile.push(lying);
    for (let i = 0; i < 40; i++) {
      const noise = Uint8Array.from({ length: 4 + Math.floor(random() * 80) }, () => Math.floor(random() * 256));
      if (i % 2 === 0) noise.set([80, 82, 87, 49]); // the magic, so that the header parser is reached
      hostile.push(noise);
    }
    // A non-finite value first, and finite values whose weighted sum overflows float32.
    hostile.push(delta([Number.NaN, 1, 1]), delta([3e38, 3e38, 3e38], 2));
    for (const [i, body] of hostile.entries()) await expect(submit(`bad-${i}`, body)).rejects.toMatchObject({ code: "invalid_update" });
    expect(bits(store)).toEqual(before);
    expect(store.loadPartial()).toMatchObject({ count: 1 });
    expect(store.sumWrites).toBe(1);
    // Nor the sum in memory: the next good fold lands on the sum as it was.
    await submit("good", good);
    const expected = new WeightedSum(3);
    expected.add(Float32Array.from([0.1, 0.2, 0.3]), 3);
    expected.add(Float32Array.from([1, 2, 3]), 1);
    expect(bits(store)).toEqual(Array.from(new Uint32Array(expected.sum.buffer)));
    // A good body with one byte changed anywhere in its preamble or header: refused, or (a still valid header) folded; never a crash.
    const headerEnd = 8 + new DataView(good.buffer).getUint32(4, true);
    let folded = 2;
    for (let at = 0; at < headerEnd; at++) {
      const flipped = good.slice();
      flipped[at] ^= 0x5a;
      const outcome = await submit(`flip-${at}`, flipped).then(() => "folded", (error: { code?: string }) => error.code);
      if (outcome === "folded") folded += 1;
      else expect(outcome).toBe("invalid_update");
    }
    expect(store.loadPartial()).toMatchObject({ count: folded });
  });

  it("rereads the stored sum when a store write fails after the sum in memory was changed", async () => {
    const { store, submit } = setup();
    await submit("t1", delta([1, 1, 1]));
    const save = store.saveFolded.bind(store);
    store.saveFolded = () => {
      throw new Error("disk full");
    };
    await expect(submit("t2", delta([7, 7, 7]))).rejects.toThrow("disk full");
    store.saveFolded = save;
    await submit("t3", delta([2, 2, 2]));
    expect(Array.from(store.loadSum(3))).toEqual([3, 3, 3]);
  });

  it("refuses updates for a sealed round, and seals a round it never saw so none can slip in later", async () => {
    const { shard, submit } = setup();
    await submit("t1", delta([1, 1, 1]));
    const sealed = await shard.seal(round1);
    expect(sealed.meta).toMatchObject({ count: 1, weight: 1, sealed: true });
    expect(await shard.seal(round1)).toEqual(sealed);
    await expect(submit("t2", delta([1, 1, 1]))).rejects.toMatchObject({ code: "round_closed" });
    const empty = await shard.seal({ round: 2, attempt: 0 });
    expect(empty).toEqual({ meta: expect.objectContaining({ count: 0, sealed: true }), folded: [] });
    await expect(submit("t3", delta([1, 1, 1]), { round: 2, attempt: 0 })).rejects.toMatchObject({ code: "round_closed" });
  });

  it("starts afresh for a later round or attempt, and refuses updates for the one it replaced", async () => {
    const { shard, store, submit } = setup();
    await submit("t1", delta([1, 1, 1]));
    await submit("t2", delta([2, 2, 2]), { round: 1, attempt: 1 });
    expect(Array.from(store.loadSum(3))).toEqual([2, 2, 2]);
    expect(store.listFolded().map((f) => f.ticket)).toEqual(["t2"]);
    await expect(submit("t3", delta([1, 1, 1]))).rejects.toMatchObject({ code: "round_closed" });
    await expect(shard.seal(round1)).rejects.toMatchObject({ code: "conflict" });
  });

  it("streams the sealed sum, from memory or, after a restart, from the store", async () => {
    const { shard, store, submit } = setup();
    await submit("t1", delta([1, 2, 3]));
    expect(() => shard.sumChunks(round1)).toThrow();
    await shard.seal(round1);
    const floats = (chunks: Iterable<Uint8Array>) => Array.from(new Float32Array(Uint8Array.from([...chunks].flatMap((c) => [...c])).buffer));
    expect(floats(shard.sumChunks(round1))).toEqual([1, 2, 3]);
    expect(floats(new AggregatorCore(store, {} as JobPort, signer).sumChunks(round1))).toEqual([1, 2, 3]);
  });

  it("drops a released sum but keeps its key sealed, and keeps a later partial", async () => {
    const { shard, store, submit } = setup();
    await submit("t1", delta([1, 1, 1]), { round: 2, attempt: 0 });
    await shard.release(round1);
    expect(store.loadPartial()).toMatchObject({ round: 2, count: 1 });
    await shard.release({ round: 2, attempt: 0 });
    expect(store.loadPartial()).toMatchObject({ round: 2, length: 0, sealed: true });
    await expect(submit("t2", delta([1, 1, 1]), { round: 2, attempt: 0 })).rejects.toMatchObject({ code: "round_closed" });
  });
});
