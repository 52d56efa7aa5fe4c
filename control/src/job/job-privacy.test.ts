import { describe, expect, it } from "vitest";
import { encodeWeights, gaussianEpsilon, jobSpecSchema, type JobSpecInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "./deadlines.js";
import { JobCore, type ClaimResult } from "./job-core.js";
import { MemoryJobStore } from "./job-store.js";
import { InProcessAggregation, inProcessTickets } from "../aggregation/in-process-aggregation.js";

const N = 20_000;
const tensors = [{ name: "w", shape: [N], dtype: "float32" as const }];

/** A private job of `devices` a round, every device sending the delta 0.01 everywhere (norm 1.41); the next model from a zero base, round by round. */
function privateJob(noiseMultiplier: number, devices = 10) {
  const core = new JobCore(new MemoryJobStore(), new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => crypto.randomUUID(), tickets: inProcessTickets });
  const spec: JobSpecInput = {
    name: "private", model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors },
    plan: { rounds: 3, clientsPerRound: devices, overCommit: 1, localEpochs: 1 }, aggregation: { strategy: "fedavg", weighting: "uniform" },
    robustness: { clipping: { mode: "fixed", norm: 1 } }, privacy: { noiseMultiplier },
  };
  core.create({ id: "job_private1", tenant: "acme", spec: jobSpecSchema.parse(spec), now: 0 });
  core.setInitialModel("base-hash", 0);
  const shards = new InProcessAggregation(core);
  let clock = 1;
  const round = async () => {
    for (let i = 0; i < devices; i++) {
      const id = `d${i}-${clock}`;
      const claim = core.claim(id, clock) as Extract<ClaimResult, { kind: "task" }>;
      const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: 5 } }, new Float32Array(N).fill(0.01));
      await shards.submit({ ticket: claim.ticket, clientId: id, round: claim.round, body }, clock);
    }
    clock += 1;
    return shards.close(new Float32Array(N), `m${clock}`, clock);
  };
  return { core, round };
}

describe("central differential privacy at the job", () => {
  it("adds Gaussian noise of sd noiseMultiplier x bound to the round's sum of clipped updates: the mean moves by sd z x C / n", async () => {
    const { round } = privateJob(2);
    const next = await round();
    // Each update is clipped from norm 1.414 to 1: 0.01 / 1.414 per coordinate; noise sd on the mean 2 x 1 / 10.
    const mean = 0.01 / Math.sqrt(N * 1e-4);
    const deviations = Array.from(next, (v) => v - mean);
    const sd = Math.sqrt(deviations.reduce((s, d) => s + d * d, 0) / N);
    expect(sd).toBeGreaterThan(0.2 * 0.97);
    expect(sd).toBeLessThan(0.2 * 1.03);
    expect(Math.abs(deviations.reduce((s, d) => s + d, 0) / N)).toBeLessThan(0.01);
  });

  it("reports the privacy spent in every closed round's record, growing with the rounds", async () => {
    const { core, round } = privateJob(1.5);
    await round();
    await round();
    const [first, second] = core.status("acme").rounds;
    expect(first.privacy).toEqual({ noiseMultiplier: 1.5, delta: 1e-5, releases: 1, epsilon: gaussianEpsilon(1.5, 1, 1e-5) });
    expect(second.privacy).toMatchObject({ releases: 2, epsilon: gaussianEpsilon(1.5, 2, 1e-5) });
    expect(second.privacy!.epsilon).toBeGreaterThan(first.privacy!.epsilon);
    // The count of clipped updates is not shown for a private job (only its noised form moves an adaptive bound).
    expect(first.clipping).toEqual({ bound: 1, belowBound: null, updates: 10 });
  });
});
