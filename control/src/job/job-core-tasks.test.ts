import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore, type ClaimResult } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";
import { asyncCodeOf, codeOf } from "../../test/error-code.js";

const tensors = [{ name: "w", shape: [2, 2], dtype: "float32" as const }];
const base: JobSpecInput = {
  name: "unit",
  model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
  plan: { rounds: 2, clientsPerRound: 2, overCommit: 1, minReportFraction: 0.5, roundDeadlineSeconds: 60, localEpochs: 1 },
};

function setup(extra: Partial<JobSpecInput> = {}) {
  const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} });
  let n = 0;
  const core = new JobCore(new MemoryJobStore(), deadlines, { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets });
  core.create({ id: "job_test0001", tenant: "acme", spec: jobSpecSchema.parse({ ...base, ...extra }), now: 0 });
  core.setInitialModel("base-hash", 0);
  return { core, deadlines, shards: new InProcessAggregation(core) };
}

const delta = () => encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 1 } }, Float32Array.from([1, 1, 1, 1]));
const task = (claim: ClaimResult) => {
  if (claim.kind !== "task") throw new Error(`expected a task, got ${claim.reason}`);
  return claim;
};

/** Runs round `round` to its close with devices `ids`, the next model recorded as `model-<round>`. */
async function closeRound(setupResult: ReturnType<typeof setup>, round: number, ids: string[], now: number): Promise<void> {
  const { core, shards } = setupResult;
  for (const id of ids) await shards.submit({ ticket: task(core.claim(id, now)).ticket, clientId: id, round, body: delta() }, now + 1);
  core.onAlarm(now + 2);
  core.completeAggregation(round, `model-${round}`, now + 3);
}

describe("a device that cannot do its task", () => {
  it("frees its slot at once, and the round counts the failure by code", async () => {
    const { core } = setup();
    const a = task(core.claim("a", 1));
    task(core.claim("b", 1));
    expect(core.claim("c", 1)).toMatchObject({ kind: "wait", reason: "round_full" });
    const record = core.reportFailure({ ticket: a.ticket, clientId: "a", round: 1, failure: { code: "missing_kernel", message: "Kernel 'Relu' not registered" } }, 2);
    expect(record.failed).toEqual({ missing_kernel: 1 });
    expect(core.claim("c", 3).kind).toBe("task");
  });

  it("is not bound to the job again after a lasting failure, and may try again after another", async () => {
    const { core } = setup({ plan: { ...base.plan, rounds: 3 } });
    const a = task(core.claim("a", 1));
    core.reportFailure({ ticket: a.ticket, clientId: "a", round: 1, failure: { code: "data_mismatch", message: "784 values, the job takes 2352" } }, 2);
    expect(core.claim("a", 3)).toMatchObject({ kind: "wait", reason: "task_failed" });
    const b = task(core.claim("b", 3));
    core.reportFailure({ ticket: b.ticket, clientId: "b", round: 1, failure: { code: "out_of_memory", message: "allocation failed" } }, 4);
    expect(core.claim("b", 5)).toMatchObject({ kind: "wait", reason: "task_failed" });
    expect(core.status("acme").rounds[0].failed).toEqual({ data_mismatch: 1, out_of_memory: 1 });
  });

  it("answers a repeated failure report as the first; an update the device sends all the same counts once, as its shard folded it", async () => {
    const { core, shards } = setup();
    const a = task(core.claim("a", 1));
    const failure = { code: "training_error" as const, message: "loss is NaN" };
    core.reportFailure({ ticket: a.ticket, clientId: "a", round: 1, failure }, 2);
    expect(core.reportFailure({ ticket: a.ticket, clientId: "a", round: 1, failure }, 3).failed).toEqual({ training_error: 1 });
    expect(await shards.submit({ ticket: a.ticket, clientId: "a", round: 1, body: delta() }, 4)).toMatchObject({ accepted: true, reported: 1 });
    expect(await asyncCodeOf(() => shards.submit({ ticket: a.ticket, clientId: "a", round: 1, body: delta() }, 5))).toBe("ticket_used");
    expect(codeOf(() => core.reportFailure({ ticket: a.ticket, clientId: "b", round: 1, failure }, 4))).toBe("ticket_invalid");
  });

  it("counts the bound devices whose lease ran out as timed out when the round ends", async () => {
    const { core, shards } = setup({ plan: { ...base.plan, clientsPerRound: 3, minReportFraction: 0.3 } });
    const a = task(core.claim("a", 1));
    task(core.claim("b", 1));
    task(core.claim("c", 1));
    await shards.submit({ ticket: a.ticket, clientId: "a", round: 1, body: delta() }, 2);
    core.onAlarm(60_001);
    expect(core.status("acme").rounds[0]).toMatchObject({ status: "aggregating", reported: 1, timedOut: 2 });
  });
});

describe("federated evaluation", () => {
  const evaluated = { evaluation: { everyRounds: 1 } };

  it("asks devices to evaluate each round's result beside the next round, weighting reports by examples", async () => {
    const s = setup(evaluated);
    await closeRound(s, 1, ["a", "b"], 10);
    const e = task(s.core.claim("a", 20));
    expect(e).toMatchObject({ evaluate: true, round: 1, modelHash: "model-1" });
    // A device that is not evaluating trains in round 2 meanwhile.
    s.core.reportEvaluation({ ticket: e.ticket, clientId: "a", round: 1, report: { examples: 100, loss: 0.5, accuracy: 0.9 } }, 21);
    const f = task(s.core.claim("b", 22));
    expect(f.evaluate).toBe(true);
    s.core.reportEvaluation({ ticket: f.ticket, clientId: "b", round: 1, report: { examples: 300, loss: 0.1, accuracy: 0.5 } }, 23);
    const round1 = s.core.status("acme").rounds[0];
    expect(round1.evaluation).toMatchObject({ status: "closed", reported: 2, examples: 400, accuracy: 0.6, loss: 0.2, model: "model-1" });
    expect(task(s.core.claim("a", 24))).toMatchObject({ round: 2 });
    expect(task(s.core.claim("a", 24)).evaluate).toBeUndefined();
  });

  it("finishes the job only when the last model has been evaluated", async () => {
    const s = setup(evaluated);
    await closeRound(s, 1, ["a", "b"], 10);
    for (const id of ["a", "b"]) {
      const e = task(s.core.claim(id, 20));
      s.core.reportEvaluation({ ticket: e.ticket, clientId: id, round: 1, report: { examples: 10, loss: 1, accuracy: 0.5 } }, 21);
    }
    await closeRound(s, 2, ["a", "b"], 30);
    expect(s.core.status("acme").state).toBe("running");
    const e = task(s.core.claim("c", 40));
    expect(e).toMatchObject({ evaluate: true, round: 2, modelHash: "model-2" });
    s.core.reportEvaluation({ ticket: e.ticket, clientId: "c", round: 2, report: { examples: 10, loss: 0.5, accuracy: 0.8 } }, 41);
    expect(s.core.status("acme").state).toBe("running");
    // The evaluation's deadline closes it with the reports it has.
    s.core.onAlarm(40 + 60_000);
    const status = s.core.status("acme");
    expect(status.state).toBe("done");
    expect(status.rounds.at(-1)!.evaluation).toMatchObject({ status: "closed", reported: 1, accuracy: 0.8 });
  });

  it("evaluates every K-th round's result and the last one's", async () => {
    const s = setup({ plan: { ...base.plan, rounds: 3 }, evaluation: { everyRounds: 2 } });
    await closeRound(s, 1, ["a", "b"], 10);
    expect(s.core.status("acme").rounds[0].evaluation).toBeUndefined();
    await closeRound(s, 2, ["a", "b"], 20);
    expect(s.core.status("acme").rounds[1].evaluation).toMatchObject({ status: "open", demand: 2 });
  });

  it("frees an evaluation slot on a failure and refuses a stale or foreign report", async () => {
    const s = setup({ ...evaluated, plan: { ...base.plan, clientsPerRound: 1 } });
    await closeRound(s, 1, ["a"], 10);
    const e = task(s.core.claim("a", 20));
    s.core.reportFailure({ ticket: e.ticket, clientId: "a", round: 1, failure: { code: "out_of_memory", message: "allocation failed" } }, 21);
    expect(s.core.status("acme").rounds[0].evaluation?.failed).toEqual({ out_of_memory: 1 });
    const f = task(s.core.claim("b", 22));
    expect(f.evaluate).toBe(true);
    expect(codeOf(() => s.core.reportEvaluation({ ticket: f.ticket, clientId: "a", round: 1, report: { examples: 1, loss: 1, accuracy: 1 } }, 23))).toBe("ticket_invalid");
    expect(codeOf(() => s.core.reportEvaluation({ ticket: f.ticket, clientId: "b", round: 1, report: { examples: 1, loss: 1, accuracy: 1 } }, 20 + 60_001))).toBe("round_closed");
  });
});
