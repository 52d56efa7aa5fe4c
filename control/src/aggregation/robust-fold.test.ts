import { describe, expect, it } from "vitest";
import { encodeWeights, jobSpecSchema, l2Norm, type JobSpecInput, type RobustnessInput } from "@propius/shared";
import { Deadlines, MemoryDeadlineStore } from "../job/deadlines.js";
import { JobCore, type ClaimResult } from "../job/job-core.js";
import { MemoryJobStore } from "../job/job-store.js";
import { InProcessAggregation, inProcessTickets } from "./in-process-aggregation.js";
import { codeOf } from "../../test/error-code.js";
import { shardOf } from "./shards.js";

const tensors = [{ name: "w", shape: [4], dtype: "float32" as const }];
const honest = [0.1, -0.2, 0.05, 0.1];
const honestMean = honest; // every honest device sends the same delta here

/** A job of 8 devices a round on the in-process production sequence (claim, submitUpdate, closeRound), with `robustness`. */
function setup(robustness: RobustnessInput | undefined, plan: Partial<JobSpecInput["plan"]> = {}) {
  const deadlines = new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} });
  let n = 0;
  const core = new JobCore(new MemoryJobStore(), deadlines, { newTicket: () => `ticket-${++n}`, tickets: inProcessTickets });
  const spec: JobSpecInput = { name: "robust", model: { format: "tfjs-layers", topology: {}, weightSpecs: tensors }, plan: { rounds: 5, clientsPerRound: 8, overCommit: 1, localEpochs: 1, ...plan }, robustness };
  core.create({ id: "job_robust01", tenant: "acme", spec: jobSpecSchema.parse(spec), now: 0 });
  core.setInitialModel("base-hash", 0);
  const shards = new InProcessAggregation(core);
  let clock = 1;
  /** One round: seven honest devices (100 examples each) and `attacker`'s update; the next model from a zero base. */
  const round = async (attacker: { values: number[]; examples: number } | null, honestValues = honest) => {
    const devices = Array.from({ length: 8 }, (_, i) => `d${i}-r${clock}`);
    for (const [i, id] of devices.entries()) {
      const claim = core.claim(id, clock) as Extract<ClaimResult, { kind: "task" }>;
      const update = i === 7 && attacker ? attacker : { values: honestValues, examples: 100 };
      const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: update.examples } }, Float32Array.from(update.values));
      await shards.submit({ ticket: claim.ticket, clientId: id, round: claim.round, body }, clock);
    }
    clock += 1;
    return shards.close(new Float32Array(4), `m${clock}`, clock);
  };
  return { core, round };
}

const distance = (a: Float32Array, b: number[]) => l2Norm(Float32Array.from(a, (v, i) => v - b[i]));
const scaled = { values: honest.map((v) => v * 1e3), examples: 100 };
const signFlipped = { values: honest.map((v) => -v), examples: 1e9 };

describe("robust aggregation through the upload route's sequence", () => {
  it("without defences one attacker of 8 takes the model wherever it likes", async () => {
    const { round } = setup({ maxExamples: 1e12 });
    expect(distance(await round(scaled), honestMean)).toBeGreaterThan(10);
    // Sign-flipped with a claim of 1e9 examples: the mean is the attacker's.
    expect(distance(await round(signFlipped), honest.map((v) => -v))).toBeLessThan(1e-3);
  });

  it("the examples cap bounds a claim of 1e9 at maxExamples, where the shard weighs and the job counts", async () => {
    const { core, round } = setup({ maxExamples: 100 });
    const next = await round(signFlipped);
    // Capped at 100 it weighs as one honest device: (7 x honest - honest) / 8.
    honest.forEach((v, i) => expect(next[i]).toBeCloseTo((6 / 8) * v, 6));
    expect(core.status("acme").rounds[0].examples).toBe(800);
  });

  it("a fixed norm bound scales an update x1e3 down to the bound", async () => {
    const { round } = setup({ clipping: { mode: "fixed", norm: l2Norm(Float32Array.from(honest)) } });
    const next = await round(scaled);
    honest.forEach((v, i) => expect(next[i]).toBeCloseTo(v, 6));
  });

  it("a fixed norm bound with the cap bounds the sign-flipped update claiming 1e9 examples to one device's worth", async () => {
    const { round } = setup({ maxExamples: 100, clipping: { mode: "fixed", norm: 1 } });
    const next = await round(signFlipped);
    expect(distance(next, honestMean)).toBeLessThan(2 * l2Norm(Float32Array.from(honest)) / 8 + 1e-6);
  });

  it("an adaptive bound follows the median norm of recent rounds and then clips the attacker", async () => {
    const { core, round } = setup({ clipping: { mode: "adaptive", initialNorm: 10, quantile: 0.5, learningRate: 0.5 } }, { rounds: 40 });
    for (let r = 0; r < 30; r++) await round(null);
    const honestNorm = l2Norm(Float32Array.from(honest));
    expect(core.clipBound()).toBeLessThan(2 * honestNorm);
    expect(core.clipBound()).toBeGreaterThan(honestNorm / 2);
    expect(distance(await round(scaled), honestMean)).toBeLessThan(0.5);
    // Each round's record shows the bound it folded with and how many updates were within it.
    const rounds = core.status("acme").rounds;
    expect(rounds[0].clipping).toEqual({ bound: 10, belowBound: 8, updates: 8 });
    expect(rounds.filter((r) => r.status === "closed").at(-1)!.clipping).toMatchObject({ belowBound: 7, updates: 8 });
  });

  it.each([
    ["median", { kind: "median" }],
    ["trimmed mean", { kind: "trimmedMean", trim: 0.2 }],
    ["multi-Krum", { kind: "krum", byzantine: 1 }],
  ] as const)("the %s leaves the model where the honest devices put it, whatever the attacker sends or claims", async (_name, estimator) => {
    const { round } = setup({ estimator });
    for (const attacker of [scaled, signFlipped, { values: [3e38, -3e38, 3e38, 1e30], examples: 1 }]) {
      expect(distance(await round(attacker), honestMean)).toBeLessThan(1e-6);
    }
  });

  it("with two shards combines the shards' medians, count-weighted: each shard's median is its honest updates' while its attackers are fewer than half", async () => {
    const { core, round } = setup({ estimator: { kind: "median" } }, { aggregatorShards: 2 });
    const next = await round(scaled);
    // Round 1's devices are d0-r1 .. d7-r1; the attacker is d7-r1.
    const shards = Array.from({ length: 8 }, (_, i) => shardOf(`d${i}-r1`, 2));
    const attackerShard = shards.filter((s) => s === shards[7]).length;
    expect(new Set(shards).size).toBe(2);
    expect(attackerShard).toBeGreaterThanOrEqual(3);
    expect(distance(next, honestMean)).toBeLessThan(1e-6);
    expect(core.status("acme").rounds[0]).toMatchObject({ status: "closed", reported: 8 });
  });

  it("refuses at creation an estimator whose updates a shard cannot hold, and a change of demand that would need more", () => {
    const big = [{ name: "w", shape: [1000, 1000], dtype: "float32" as const }];
    const core = () => new JobCore(new MemoryJobStore(), new Deadlines(new MemoryDeadlineStore(), { schedule: () => {} }), { newTicket: () => "t", tickets: inProcessTickets });
    const spec = (clientsPerRound: number) => jobSpecSchema.parse({ name: "big", model: { format: "tfjs-layers", topology: {}, weightSpecs: big }, plan: { rounds: 1, clientsPerRound, overCommit: 1, localEpochs: 1 }, robustness: { estimator: { kind: "median" } } });
    expect(codeOf(() => core().create({ id: "job_big00001", tenant: "acme", spec: spec(17), now: 0 }))).toBe("aggregation_too_large");
    const fits = core();
    expect(fits.create({ id: "job_big00001", tenant: "acme", spec: spec(16), now: 0 }).state).toBe("pending_model");
    expect(codeOf(() => fits.update({ clientsPerRound: 17 }, 1))).toBe("aggregation_too_large");
    expect(fits.jobFor("acme").spec.plan.clientsPerRound).toBe(16);
    expect(fits.update({ clientsPerRound: 8 }, 2).spec.plan.clientsPerRound).toBe(8);
  });
});
