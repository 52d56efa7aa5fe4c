import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "../job/deadlines.js";
import { JobCore, type ClaimResult } from "../job/job-core.js";
import { MemoryJobStore } from "../job/job-store.js";
import { InProcessAggregation, inProcessTickets } from "./in-process-aggregation.js";

const tensors = [{ name: "w", shape: [3], dtype: "float32" as const }];
const spec: JobSpecInput = {
  name: "counted",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
  plan: { rounds: 2, clientsPerRound: 8, overCommit: 1, roundDeadlineSeconds: 60, localEpochs: 1 },
};

function setup() {
  const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} });
  let n = 0;
  const core = new JobCore(new MemoryJobStore(), deadlines, { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets });
  core.create({ id: "job_counted1", tenant: "acme", spec: jobSpecSchema.parse(spec), now: 0 });
  core.setInitialModel("base-hash", 0);
  const shards = new InProcessAggregation(core);
  const upload = (id: string) => {
    const claim = core.claim(id, 1) as Extract<ClaimResult, { kind: "task" }>;
    const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, Float32Array.from([1, 2, 3]));
    return shards.submit({ ticket: claim.ticket, clientId: id, round: 1, body }, 2);
  };
  return { shards, upload };
}

describe("submitUpdate, counted", () => {
  it("makes one object call from the Worker per upload, and for uploads that arrive together one sum write and one call to the job", async () => {
    const { shards, upload } = setup();
    await Promise.all(["a", "b", "c", "d"].map(upload));
    expect(Object.fromEntries(shards.calls)).toEqual({ "shard.submit": 4, "job.describe": 1, "job.commitFolds": 1 });
    expect(shards.stores.get(0)!.sumWrites).toBe(1);
  });

  it("costs an upload that arrives alone one sum write and one call to the job; the shard asks for the job's description once", async () => {
    const { shards, upload } = setup();
    for (const id of ["a", "b", "c"]) await upload(id);
    expect(Object.fromEntries(shards.calls)).toEqual({ "shard.submit": 3, "job.describe": 1, "job.commitFolds": 3 });
    expect(shards.stores.get(0)!.sumWrites).toBe(3);
  });
});
