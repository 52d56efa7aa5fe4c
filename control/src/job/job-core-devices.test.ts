import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore, type ClaimResult } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { deviceIds } from "../auth/device-ids.js";
import { codeOf } from "../../test/error-code.js";

const tensors = [{ name: "w", shape: [2, 2], dtype: "float32" as const }];
const base: JobSpecInput = {
  name: "unit",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
  plan: { rounds: 3, clientsPerRound: 2, overCommit: 1, minReportFraction: 0.5, roundDeadlineSeconds: 60, localEpochs: 1 },
  evaluation: { everyRounds: 1 },
};
const ids = deviceIds("unit-test-secret");

function setup(id = "job_test0001") {
  let n = 0;
  const core = new JobCore(new MemoryJobStore(), new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets, deviceIds: ids });
  core.create({ id, tenant: "acme", spec: jobSpecSchema.parse(base), now: 0 });
  core.setInitialModel("base-hash", 0);
  return { core, shards: new InProcessAggregation(core) };
}

const delta = (examples: number) => encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples } }, Float32Array.from([1, 1, 1, 1]));
const task = (claim: ClaimResult) => {
  if (claim.kind !== "task") throw new Error(`expected a task, got ${claim.reason}`);
  return claim;
};

describe("the job's record of its devices", () => {
  it("counts each device's bindings, accepted updates, examples, bytes, failures by code and evaluations, by an anonymous id", async () => {
    const { core, shards } = setup();
    const a = task(core.claim("client-a", 10, { platform: "node", ram_gb: 8 }));
    const b = task(core.claim("client-b", 11, { platform: "browser" }));
    // Checking in again while holding the task binds nothing new.
    task(core.claim("client-a", 12, { platform: "node", ram_gb: 8 }));
    await shards.submit({ ticket: a.ticket, clientId: "client-a", round: 1, body: delta(30) }, 20);
    core.reportFailure({ ticket: b.ticket, clientId: "client-b", round: 1, failure: { code: "out_of_memory", message: "allocation failed" } }, 21);
    const c = task(core.claim("client-c", 22, { platform: "node" }));
    await shards.submit({ ticket: c.ticket, clientId: "client-c", round: 1, body: delta(5) }, 23);
    core.onAlarm(24);
    core.completeAggregation(1, "model-1", 25);

    // Round 1's result is evaluated beside round 2; a device that evaluates is not bound to train meanwhile.
    const e = task(core.claim("client-a", 30, { platform: "node", ram_gb: 16 }));
    expect(e.evaluate).toBe(true);
    core.reportEvaluation({ ticket: e.ticket, clientId: "client-a", round: 1, report: { examples: 10, loss: 0.5, accuracy: 0.9 } }, 31);
    const a2 = task(core.claim("client-a", 32, { platform: "node", ram_gb: 16 }));
    expect(a2).toMatchObject({ round: 2 });
    await shards.submit({ ticket: a2.ticket, clientId: "client-a", round: 2, body: delta(7) }, 40);

    const devices = core.devices("acme", 100);
    expect(devices.map((d) => d.id)).toEqual([ids("job_test0001", "client-a"), ids("job_test0001", "client-c"), ids("job_test0001", "client-b")]);
    const [da, dc, db] = devices;
    expect(da).toMatchObject({ attributes: { platform: "node", ram_gb: 16 }, roundsBound: 2, updatesAccepted: 2, examples: 37, failures: {}, evaluationsReported: 1, firstSeen: 10, lastSeen: 40 });
    expect(da.bytesIn).toBeGreaterThan(0);
    expect(dc).toMatchObject({ roundsBound: 1, updatesAccepted: 1, examples: 5, evaluationsReported: 0, lastSeen: 23 });
    expect(db).toEqual({ id: db.id, attributes: { platform: "browser" }, roundsBound: 1, updatesAccepted: 0, examples: 0, bytesIn: 0, failures: { out_of_memory: 1 }, evaluationsReported: 0, firstSeen: 11, lastSeen: 21 });
    // What the round records count, the devices' records add up to.
    const round1 = core.status("acme").rounds[0];
    expect(devices.reduce((n, d) => n + d.bytesIn, 0)).toBe(round1.bytesIn + core.status("acme").rounds[1].bytesIn);
  });

  it("names a device with an id of its own in each job, never its client id, and lists the most recent first up to the limit", () => {
    const one = setup("job_test0001");
    const two = setup("job_test0002");
    for (const [i, id] of ["x", "y"].entries()) {
      task(one.core.claim(id, 10 + i));
      task(two.core.claim(id, 10 + i));
    }
    expect(one.core.devices("acme", 1).map((d) => d.id)).toEqual([ids("job_test0001", "y")]);
    const first = one.core.devices("acme", 10);
    expect(first.map((d) => d.id)).toEqual([ids("job_test0001", "y"), ids("job_test0001", "x")]);
    for (const d of first) expect(d.id).toMatch(/^[0-9a-f]{16}$/);
    const second = two.core.devices("acme", 10).map((d) => d.id);
    expect(second.some((id) => first.some((d) => d.id === id))).toBe(false);
    expect(codeOf(() => one.core.devices("other-tenant", 10))).toBe("job_not_found");
  });
});
