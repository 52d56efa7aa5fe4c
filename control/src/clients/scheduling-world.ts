import { encodeWeights, jobSpecSchema, type Attributes, type CheckInReply, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "../job/deadlines.js";
import { JobCore } from "../job/job-core.js";
import { MemoryJobStore } from "../job/job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { createPolicy, type PolicyName } from "../scheduling/policies/index.js";
import { toTask } from "../scheduling/task.js";
import { ClientManager, type ClaimAnswer, type ClientManagerDeps, type ScheduledJob } from "./client-manager.js";
import { MemoryClientRegistry } from "./client-registry.js";

/**
 * For tests of the client managers: real job state machines in memory, behind the claim function
 * the Durable Object adapter provides, and a clock the test moves.
 */
const tensors = [{ name: "w", shape: [2], dtype: "float32" as const }];

export function world(jobs: { id: string; demand?: number; constraints?: JobSpecInput["constraints"]; privateConstraints?: JobSpecInput["privateConstraints"] }[], policy: PolicyName = "fifo", extra: Pick<ClientManagerDeps, "connected"> = {}) {
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
    ...extra,
    loadJobs: async () => (calls.loadJobs++, scheduled),
    claim: async (jobId, clientId, attributes): Promise<ClaimAnswer> => {
      calls.claims.push(jobId);
      const claim = cores.get(jobId)!.claim(clientId, clock, attributes);
      return claim.kind === "task" ? { kind: "task", task: toTask(jobId, claim) } : claim;
    },
  });
  const checkIn = (clientId: string, attributes: Attributes = {}, accept?: string) => manager.checkIn(clientId, attributes, clock, accept);
  const report = (clientId: string, reply: CheckInReply) => {
    if (reply.status !== "task") throw new Error(`expected a task, got ${JSON.stringify(reply)}`);
    const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, Float32Array.of(1, 1));
    return new InProcessAggregation(cores.get(reply.task.jobId)!).submit({ ticket: reply.task.ticket, clientId, round: reply.task.round, body }, clock);
  };
  return { manager, registry, cores, calls, checkIn, report, advance: (ms: number) => (clock += ms), now: () => clock };
}

