import { describe, expect, it } from "vitest";
import { DEFAULT_ROBUSTNESS, encodeWeights, type UpdateReceipt } from "@propius/shared";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import { submitUpdate } from "./submit-update.js";
import { tickets } from "../auth/tickets.js";
import type { Chunks, JobPort } from "./shard-ports.js";

const weightSpecs = [{ name: "w", shape: [3], dtype: "float32" as const }];
const signer = tickets("unit-secret");
const delta = (values: number[]) => encodeWeights({ kind: "delta", codec: "fp32", tensors: weightSpecs, meta: { examples: 1 } }, Float32Array.from(values));
const ticket = (id: string, leaseUntil = 1_000) => signer.sign({ id, jobId: "job_1", clientId: `c-${id}`, round: 1, attempt: 0, leaseUntil, shard: 0 });

/** One shard over a memory store, reached through the upload's production sequence (`submitUpdate`) as the Worker reaches it. */
function setup() {
  const store = new MemoryAggregatorStore();
  const job: JobPort = {
    describe: async () => ({ jobId: "job_1", weightSpecs, weighting: "examples", buffered: false, robustness: DEFAULT_ROBUSTNESS }),
    admit: async () => {
      throw new Error("not a buffered job");
    },
    secureBound: async () => ({ devices: 0, selecting: false, wanted: 0 }),
      clipBound: async () => {
      throw new Error("no norm bound");
    },
    commitFolds: async (_id, records) => ({
      answers: records.map((r) => ({ ok: true as const, value: { accepted: true, jobId: "job_1", round: r.key.round, reported: 1, demand: 1 } satisfies UpdateReceipt })),
      closed: false,
    }),
  };
  const shard = new AggregatorCore(store, job, signer);
  let now = 10;
  const port = { submit: (upload: Parameters<AggregatorCore["submit"]>[0], i: number) => shard.submit(upload, i, now), spend: async (upload: Parameters<AggregatorCore["spend"]>[0], i: number) => shard.spend(upload, i, now) };
  const submit = (id: string, body: Chunks, cutShort = false) => submitUpdate<Chunks>(() => port, { jobId: "job_1", ticket: ticket(id), clientId: `c-${id}`, round: 1, body }, { cutShort: () => cutShort });
  return { store, submit, at: (t: number) => (now = t) };
}
const once = (body: Uint8Array) => (async function* () { yield body; })();

describe("a refused upload and its ticket", () => {
  it("spends the ticket of a body that is not a valid delta: its replay, even with a good body, is ticket_used and folds nothing", async () => {
    const { store, submit } = setup();
    await expect(submit("t1", once(delta([1, Number.NaN, 1])))).rejects.toMatchObject({ code: "invalid_update" });
    await expect(submit("t1", once(new Uint8Array(3)))).rejects.toMatchObject({ code: "ticket_used" });
    await expect(submit("t1", once(delta([1, 2, 3])))).rejects.toMatchObject({ code: "ticket_used" });
    expect(store.loadPartial()).toBeNull();
    // Another device's ticket is untouched.
    await submit("t2", once(delta([1, 2, 3])));
    expect(store.loadPartial()).toMatchObject({ count: 1 });
  });

  it("leaves the ticket as it was when the Worker cut the body short (the upload limit, a stall): the retry is folded", async () => {
    const { store, submit } = setup();
    await expect(submit("t1", once(delta([1, 2, 3]).subarray(0, 20)), true)).rejects.toMatchObject({ code: "invalid_update" });
    await submit("t1", once(delta([1, 2, 3])));
    expect(store.loadPartial()).toMatchObject({ count: 1 });
  });

  it("leaves the ticket as it was when the body was lost on the way (the device is not at fault): the retry is folded", async () => {
    const { store, submit } = setup();
    const cut = (async function* () {
      yield delta([1, 2, 3]).subarray(0, 10);
      throw new TypeError("Network connection lost.");
    })();
    await expect(submit("t1", cut)).rejects.toThrow("Network connection lost.");
    await submit("t1", once(delta([1, 2, 3])));
    expect(store.loadPartial()).toMatchObject({ count: 1 });
  });

  it("forgets spent tickets once their lease has ended, when it spends the next", async () => {
    const { store, submit, at } = setup();
    await expect(submit("t1", once(new Uint8Array(16).fill(7)))).rejects.toMatchObject({ code: "invalid_update" });
    expect(store.isSpent("t1")).toBe(true);
    at(999);
    await expect(submit("t2", once(new Uint8Array(16).fill(7)))).rejects.toMatchObject({ code: "invalid_update" });
    expect([store.isSpent("t1"), store.isSpent("t2")]).toEqual([true, true]);
    // Both leases ended at 1000: spending another ticket after it drops their marks (a replay is stale by then anyway).
    store.spend("t3", 5_000, 1_001);
    expect([store.isSpent("t1"), store.isSpent("t2"), store.isSpent("t3")]).toEqual([false, false, true]);
  });
});
