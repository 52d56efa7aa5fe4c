import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, type Attributes, type CheckInReply, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "../job/deadlines.js";
import { JobCore } from "../job/job-core.js";
import { MemoryJobStore } from "../job/job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { createPolicy, type PolicyName } from "../scheduling/policies/index.js";
import { toTask } from "../scheduling/task.js";
import { ClientManager, type ClaimAnswer, type ScheduledJob } from "./client-manager.js";
import { MemoryClientRegistry } from "./client-registry.js";

const tensors = [{ name: "w", shape: [2], dtype: "float32" as const }];

/** Real job state machines in memory, behind the claim function the Durable Object adapter provides. */
function world(jobs: { id: string; demand?: number; constraints?: JobSpecInput["constraints"]; privateConstraints?: JobSpecInput["privateConstraints"] }[], policy: PolicyName = "fifo") {
  let clock = 1_000;
  const cores = new Map<string, JobCore>();
  const scheduled: ScheduledJob[] = [];
  jobs.forEach((job, i) => {
    const spec = jobSpecSchema.parse({
      name: job.id, model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
      plan: { rounds: 3, clientsPerRound: job.demand ?? 2, overCommit: 1, roundDeadlineSeconds: 60, localEpochs: 1 },
      constraints: job.constraints, privateConstraints: job.privateConstraints,
    } satisfies JobSpecInput);
    const core = new JobCore(new MemoryJobStore(), new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => crypto.randomUUID(), tickets: inProcessTickets });
    core.create({ id: job.id, tenant: "t", spec, now: i });
    core.setInitialModel("base", i);
    cores.set(job.id, core);
    scheduled.push({ id: job.id, createdAt: i, round: 1, attempt: 0, selectionSeconds: 60, totalRounds: 3, demand: spec.plan.clientsPerRound, overCommit: 1, priority: 1, constraints: spec.constraints, privateConstraints: spec.privateConstraints });
  });
  const calls = { loadJobs: 0, claims: [] as string[] };
  const registry = new MemoryClientRegistry();
  const manager = new ClientManager({
    registry,
    policy: createPolicy(policy),
    random: () => 0.5,
    loadJobs: async () => (calls.loadJobs++, scheduled),
    claim: async (jobId, clientId): Promise<ClaimAnswer> => {
      calls.claims.push(jobId);
      const claim = cores.get(jobId)!.claim(clientId, clock);
      return claim.kind === "task" ? { kind: "task", task: toTask(jobId, claim) } : claim;
    },
  });
  const checkIn = (clientId: string, attributes: Attributes = {}, accept?: string) => manager.checkIn(clientId, attributes, clock, accept);
  const report = (clientId: string, reply: CheckInReply) => {
    if (reply.status !== "task") throw new Error(`expected a task, got ${JSON.stringify(reply)}`);
    const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, Float32Array.of(1, 1));
    return new InProcessAggregation(cores.get(reply.task.jobId)!).submit({ ticket: reply.task.ticket, clientId, round: reply.task.round, body }, clock);
  };
  return { manager, registry, calls, checkIn, report, advance: (ms: number) => (clock += ms), now: () => clock };
}

const jobOf = (reply: CheckInReply) => (reply.status === "task" ? reply.task.jobId : reply.status);

describe("ClientManager", () => {
  it("binds a device to the first job in the policy's order, and gives it the same task while it holds the slot", async () => {
    const w = world([{ id: "job_aaaaaaaa" }, { id: "job_bbbbbbbb" }]);
    const first = await w.checkIn("c1");
    expect(jobOf(first)).toBe("job_aaaaaaaa");
    const again = await w.checkIn("c1");
    expect(again).toEqual(first);
  });

  it("never binds a device holding a live slot to a second job", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }, { id: "job_bbbbbbbb" }]);
    expect(jobOf(await w.checkIn("c1"))).toBe("job_aaaaaaaa");
    // c2 finds job a full, so the shard stops offering a; c1 still holds its slot there and is not given b's.
    expect(jobOf(await w.checkIn("c2"))).toBe("job_bbbbbbbb");
    expect(jobOf(await w.checkIn("c1"))).toBe("job_aaaaaaaa");
  });

  it("moves a device that has reported on to the next job that wants it", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }, { id: "job_bbbbbbbb" }]);
    const task = await w.checkIn("c1");
    await w.report("c1", task);
    expect(jobOf(await w.checkIn("c1"))).toBe("job_bbbbbbbb");
  });

  it("offers only the jobs a device is publicly eligible for", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { ram_gb: { min: 6 } } }, { id: "job_bbbbbbbb" }]);
    expect(jobOf(await w.checkIn("small", { ram_gb: 4 }))).toBe("job_bbbbbbbb");
    expect(jobOf(await w.checkIn("large", { ram_gb: 8 }))).toBe("job_aaaaaaaa");
  });

  it("offers jobs with private constraints for the device to choose, and binds the one it accepts", async () => {
    const w = world([{ id: "job_aaaaaaaa", privateConstraints: { dataset_size: { min: 100 } } }, { id: "job_bbbbbbbb" }]);
    const offer = await w.checkIn("c1");
    expect(offer).toMatchObject({
      status: "offer",
      offers: [{ jobId: "job_aaaaaaaa", privateConstraints: { dataset_size: { min: 100 } } }, { jobId: "job_bbbbbbbb", privateConstraints: {} }],
    });
    expect(w.calls.claims).toEqual([]);
    expect(jobOf(await w.checkIn("c1", {}, "job_bbbbbbbb"))).toBe("job_bbbbbbbb");
  });

  it("refuses an accepted job the device is not eligible for, or that is not running", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { platform: { in: ["browser"] } } }]);
    expect(await w.checkIn("c1", { platform: "node" }, "job_aaaaaaaa")).toMatchObject({ status: "wait", reason: "ineligible" });
    expect(await w.checkIn("c1", { platform: "node" }, "job_unknown00")).toMatchObject({ status: "wait", reason: "offer_expired" });
    expect(w.calls.claims).toEqual([]);
  });

  it("refuses a client-random pick the device is not eligible for, and the device waits", async () => {
    const w = world([{ id: "job_aaaaaaaa", constraints: { ram_gb: { min: 6 } } }], "client-random");
    expect(await w.checkIn("c1", { ram_gb: 2 })).toMatchObject({ status: "wait" });
    expect(w.calls.claims).toEqual([]);
  });

  it("stops offering a full round until the job says to try again", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    await w.checkIn("c1");
    expect(await w.checkIn("c2")).toMatchObject({ status: "wait", reason: "round_full" });
    expect(await w.checkIn("c3")).toMatchObject({ status: "wait" });
    expect(w.calls.claims).toEqual(["job_aaaaaaaa", "job_aaaaaaaa"]);
  });

  it("reads the running jobs at most once per view TTL", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 10 }]);
    for (const id of ["c1", "c2", "c3"]) await w.checkIn(id);
    expect(w.calls.loadJobs).toBe(1);
    w.advance(1_000);
    await w.checkIn("c4");
    expect(w.calls.loadJobs).toBe(2);
  });

  it("learns how long a job's tasks take per unit of device speed, for tier matching", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }, { id: "job_bbbbbbbb" }]);
    expect((await w.manager.view(w.now())).jobs[0].secondsPerSpeedUnit).toBeUndefined();
    const task = await w.checkIn("slow", { inference_latency: 4 });
    w.advance(20_000);
    await w.report("slow", task);
    expect(jobOf(await w.checkIn("slow", { inference_latency: 4 }))).toBe("job_bbbbbbbb");
    expect((await w.manager.view(w.now())).jobs[0].secondsPerSpeedUnit).toBe(5);
  });

  it("estimates supply from recent check-ins and pings, and forgets devices past the TTL", async () => {
    const w = world([]);
    await w.checkIn("c1", { ram_gb: 4 });
    await w.checkIn("c2", { ram_gb: 8 });
    w.advance(50_000);
    expect(w.manager.ping("c1", w.now())).toEqual({ known: true, ttlMs: 600_000 });
    w.advance(20_000);
    const { supply } = await w.manager.view(w.now());
    expect(supply.devices.map((d) => d.id)).toEqual(["c1"]);
    expect(w.manager.ping("ghost", w.now())).toMatchObject({ known: false });
    w.advance(600_000);
    expect(w.manager.prune(w.now())).toBe(2);
    expect(w.registry.get("c1")).toBeNull();
  });
});
