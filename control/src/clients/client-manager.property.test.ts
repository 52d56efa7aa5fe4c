import { describe, expect, it } from "vitest";
import { PropiusError, encodeWeights, jobSpecSchema, type Attributes, type CheckInReply, type Constraints, type JobSpecInput, type Task } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "../job/deadlines.js";
import { JobCore } from "../job/job-core.js";
import { MemoryJobStore } from "../job/job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { POLICY_NAMES, createPolicy, type PolicyName } from "../scheduling/policies/index.js";
import { toTask } from "../scheduling/task.js";
import { randomInt, seededRandom, type Random } from "../simulator/random.js";
import { ClientManager, type ScheduledJob } from "./client-manager.js";
import { MemoryClientRegistry } from "./client-registry.js";

/**
 * Property test of the production binding path: a client manager over real job state machines
 * (with leases, deadlines, retries and demand changes), driven by random interleavings of
 * check-ins, offers accepted or declined, reports, time passing and owners changing demand. The
 * test keeps its own record of every task handed out and checks, after every step:
 *  - no round attempt holds more live or reported slots than ceil(demand x over-commit);
 *  - a device is bound only to jobs whose public constraints its attributes meet, and accepts
 *    only offers whose private constraints it meets;
 *  - a device holds a live slot in at most one job at a time;
 *  - no slot is handed out at or after its attempt's deadline (the alarm that ends it may be late).
 */
const tensors = [{ name: "w", shape: [2], dtype: "float32" as const }];
const delta = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, Float32Array.of(1, 1));

/** Written apart from the production eligibility test on purpose. */
function meets(attributes: Attributes, constraints: Constraints | undefined): boolean {
  return Object.entries(constraints ?? {}).every(([name, c]) => {
    const value = attributes[name];
    if ("in" in c) return c.in.includes(value as never);
    return typeof value === "number" && (c.min === undefined || value >= c.min) && (c.max === undefined || value <= c.max);
  });
}

function randomSpec(random: Random, i: number): JobSpecInput {
  const constraints: Constraints[] = [{}, { ram_gb: { min: 4 } }, { os: { in: ["a", "b"] } }, { ram_gb: { min: 2, max: 6 } }];
  return {
    name: `job${i}`, model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
    plan: { rounds: 50, clientsPerRound: 1 + randomInt(random, 4), overCommit: 1 + randomInt(random, 3) / 4, roundDeadlineSeconds: 30 + randomInt(random, 60), leaseSeconds: 5 + randomInt(random, 30), minReportFraction: 0.5, localEpochs: 1 },
    constraints: constraints[randomInt(random, constraints.length)],
    privateConstraints: randomInt(random, 2) === 0 ? undefined : { dataset_size: { min: 100 + randomInt(random, 200) } },
  };
}

async function run(policy: PolicyName, seed: number, steps: number): Promise<number> {
  const random = seededRandom(seed, 7);
  let now = 1_000_000;
  const jobs = Array.from({ length: 4 }, (_, i) => {
    const spec = jobSpecSchema.parse(randomSpec(random, i));
    const store = new MemoryJobStore();
    const core = new JobCore(store, new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => `t${Math.floor(random() * 2 ** 48)}`, tickets: inProcessTickets });
    const id = `job_prop${seed}x${i}000`;
    core.create({ id, tenant: "t", spec, now: now + i });
    core.setInitialModel("base", now + i);
    return { id, core, store, shards: new InProcessAggregation(core), createdAt: now + i };
  });
  const jobOf = (id: string) => jobs.find((j) => j.id === id)!;
  const manager = new ClientManager({
    registry: new MemoryClientRegistry(),
    policy: createPolicy(policy),
    random,
    config: { viewTtlMs: randomInt(random, 2) * 1_000 },
    loadJobs: async () =>
      jobs.flatMap(({ id, core, createdAt }): ScheduledJob[] => {
        const job = core.jobFor(null);
        const { plan, constraints, privateConstraints } = job.spec;
        if (job.state !== "running") return [];
        return [{ id, createdAt, round: job.round, attempt: job.attempt, selectionSeconds: plan.roundDeadlineSeconds, totalRounds: plan.rounds, demand: plan.clientsPerRound, overCommit: plan.overCommit, priority: 1, constraints, privateConstraints }];
      }),
    claim: async (jobId, clientId) => {
      const claim = jobOf(jobId).core.claim(clientId, now);
      return claim.kind === "task" ? { kind: "task", task: toTask(jobId, claim) } : claim;
    },
  });
  const devices = Array.from({ length: 20 }, (_, i) => ({
    id: `d${i}`,
    attributes: { ram_gb: 1 + randomInt(random, 8), os: ["a", "b", "c"][randomInt(random, 3)] } as Attributes,
    private: { dataset_size: 50 + randomInt(random, 300) } as Attributes,
    task: null as Task | null,
    /** Jobs whose offer the device accepted: a device stays with such a job for its next rounds. */
    accepted: new Set<string>(),
  }));
  let bindings = 0;

  /** The jobs' own records, read device by device: who holds a slot of each current attempt. */
  const check = () => {
    const liveSlots = new Map<string, number>();
    for (const { id, core, store } of jobs) {
      const job = core.jobFor(null);
      if (job.state !== "running") continue;
      const round = core.status(null).rounds.at(-1)!;
      let held = 0;
      for (const d of devices) {
        const slot = store.findAssignment(d.id, job.round, job.attempt);
        if (slot?.status === "reported") held += 1;
        if (slot?.status === "bound" && slot.leaseUntil >= now) {
          held += 1;
          liveSlots.set(d.id, (liveSlots.get(d.id) ?? 0) + 1);
        }
      }
      expect(held, `${id} round ${job.round}/${job.attempt}`).toBeLessThanOrEqual(Math.ceil(round.demand * job.spec.plan.overCommit));
    }
    for (const [device, slots] of liveSlots) expect(slots, `${device} holds live slots in ${slots} jobs`).toBe(1);
  };

  const take = (device: (typeof devices)[number], reply: CheckInReply, accepted: boolean) => {
    if (reply.status !== "task") return;
    const { spec } = jobOf(reply.task.jobId).core.jobFor(null);
    expect(meets(device.attributes, spec.constraints), `${device.id} on ${reply.task.jobId}`).toBe(true);
    if (accepted) device.accepted.add(reply.task.jobId);
    // A job with private constraints is only ever taken from an offer the device accepted.
    if (Object.keys(spec.privateConstraints ?? {}).length > 0) expect(device.accepted.has(reply.task.jobId), `${device.id} took ${reply.task.jobId} unoffered`).toBe(true);
    if (device.task?.ticket !== reply.task.ticket) {
      bindings += 1;
      // No slot is handed out once its attempt's deadline has come, even before the alarm that ends it runs.
      expect(reply.task.deadline, `${device.id} bound to ${reply.task.jobId} round ${reply.task.round} at ${now}`).toBeGreaterThan(now);
    }
    device.task = reply.task;
  };

  for (let step = 0; step < steps; step++) {
    const device = devices[randomInt(random, devices.length)];
    const action = randomInt(random, 10);
    if (action < 5) {
      const reply = await manager.checkIn(device.id, device.attributes, now);
      const chosen = reply.status === "offer" ? reply.offers.find((o) => meets(device.private, o.privateConstraints)) : undefined;
      if (chosen) {
        expect(meets(device.private, jobOf(chosen.jobId).core.jobFor(null).spec.privateConstraints)).toBe(true);
        take(device, await manager.checkIn(device.id, device.attributes, now, chosen.jobId), true);
      } else take(device, reply, false);
    } else if (action < 8 && device.task) {
      const { core, shards } = jobOf(device.task.jobId);
      try {
        await shards.submit({ ticket: device.task.ticket, clientId: device.id, round: device.task.round, body: delta }, now);
      } catch (error) {
        if (!(error instanceof PropiusError)) throw error; // stale or refused: the device moves on
      }
      device.task = null;
      const pending = core.pendingAggregation();
      if (pending) core.completeAggregation(pending.key.round, `m${step}`, now);
    } else if (action === 8) {
      now += randomInt(random, 20_000);
      // The alarm may run late: check-ins then come between an attempt's deadline and its end.
      for (const { core } of jobs) {
        if (randomInt(random, 2) === 0) continue;
        core.onAlarm(now);
        const pending = core.pendingAggregation();
        if (pending) core.completeAggregation(pending.key.round, `m${step}`, now);
      }
    } else {
      const { core } = jobs[randomInt(random, jobs.length)];
      if (core.jobFor(null).state === "running") core.update({ clientsPerRound: 1 + randomInt(random, 5) }, now);
    }
    check();
  }
  return bindings;
}

describe("the client manager over real jobs, under random interleavings", () => {
  for (const policy of POLICY_NAMES) {
    it(`never over-assigns, respects eligibility and binds a device to one job at a time (${policy})`, async () => {
      let bindings = 0;
      for (let seed = 1; seed <= 12; seed++) bindings += await run(policy, seed, 300);
      expect(bindings).toBeGreaterThan(100);
    });
  }
});
