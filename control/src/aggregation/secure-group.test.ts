import { describe, expect, it } from "vitest";
import { PropiusError, type SecurePhase, type UpdateReceipt } from "@propius/shared";
import { secureRound, type SecureTransport } from "@propius/shared/secagg";
import { SecureGroup, type Member, type SecureGroupPorts, type UnmaskedSum } from "./secure-group.js";

const SETTINGS = { range: 1, threshold: 2 / 3, phaseSeconds: 1 };
const TASK = { jobId: "job_g", round: 1, attempt: 0, secure: { url: "", range: 1, weighting: "examples" as const, maxExamples: 100 } };

/** A group of the job's round 1 with `bound` devices bound to its shard, and what it committed. */
function group(bound: number, settings = SETTINGS) {
  const committed: UnmaskedSum[] = [];
  const ports: SecureGroupPorts = {
    bound: async () => ({ devices: bound, selecting: false, wanted: bound }),
    commit: async (_key, sum) => (committed.push(sum), sum.senders.map((): { ok: true; value: UpdateReceipt } => ({ ok: true, value: { accepted: true, jobId: "job_g", round: 1, reported: sum.senders.length, demand: bound } }))),
    now: Date.now,
  };
  return { group: new SecureGroup({ round: 1, attempt: 0 }, "job_g 1 0", settings, 5, ports), committed };
}

/** A device's way into the group, in process: the production device sequence drives it. */
function transport(g: SecureGroup, member: Member): SecureTransport {
  return {
    send: async (step, body) => (step === "keys" ? g.join(member, body as never) : step === "shares" ? g.share(member, body as never) : g.reveal(member, body as never)) as never,
    masked: (values) => g.mask(member, values),
    outcome: async (phase: SecurePhase) => (await g.outcome(member, phase, 200)) as never,
  };
}

const member = (i: number): Member => ({ ticket: `t${i}`, clientId: `c${i}` });
const deltas = [Float32Array.of(0.5, -0.25, 0.125, 0), Float32Array.of(-0.5, 0.75, 0, 0.25), Float32Array.of(0.25, 0.25, -0.5, 0.5)];

describe("a shard's secure group", () => {
  it("commits the weighted sum of its devices' deltas, the weight last, and answers each device's receipt", async () => {
    const { group: g, committed } = await group(3);
    const results = await Promise.all(deltas.map((delta, i) => secureRound(transport(g, member(i)), TASK, { delta, examples: 10 * (i + 1) })));
    expect(results.map((r) => [r.receipt.accepted, r.group, r.dropped])).toEqual([[true, 3, 0], [true, 3, 0], [true, 3, 0]]);
    expect(committed).toHaveLength(1);
    const [sum] = committed;
    expect(sum.senders.map((m) => m.ticket).sort()).toEqual(["t0", "t1", "t2"]);
    for (let j = 0; j < 4; j++) expect(sum.decoded[j]).toBeCloseTo(deltas.reduce((s, d, i) => s + (d[j] * 10 * (i + 1)) / 100, 0), 6);
    expect(sum.decoded[4]).toBeCloseTo(0.6, 6);
  });

  it("unmasks without a device that drops out after its shares, and ends the group when too few are left", async () => {
    const { group: g, committed } = await group(3);
    const dropper = (async () => {
      const t = transport(g, member(2));
      // Joins and shares like the others, then sends nothing: its round never ends.
      await secureRound({ ...t, masked: () => new Promise(() => {}) }, TASK, { delta: deltas[2], examples: 30 });
    })();
    void dropper;
    const results = await Promise.all(deltas.slice(0, 2).map((delta, i) => secureRound(transport(g, member(i)), TASK, { delta, examples: 10 * (i + 1) })));
    expect(results.map((r) => r.dropped)).toEqual([1, 1]);
    expect(committed[0].decoded[4]).toBeCloseTo(0.3, 6);

    const { group: small } = await group(3);
    const lone = secureRound(transport(small, member(0)), TASK, { delta: deltas[0], examples: 10 });
    await expect(lone).rejects.toMatchObject({ code: "secure_group_failed" });
  });

  it("refuses a step out of turn and a device outside its roster", async () => {
    const { group: g } = await group(3);
    await expect(g.share(member(0), { shares: [] })).rejects.toBeInstanceOf(PropiusError);
    await expect(g.outcome(member(9), "roster", 10)).rejects.toMatchObject({ code: "secure_phase_closed" });
  });

  it("answers generated hostile steps from members and strangers with a stable error or a no-op, never another failure", async () => {
    let seed = 20_261_204;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
    const text = () => pick(["", "A", "A".repeat(44), "A".repeat(87), "A".repeat(126), "!!", "-_".repeat(22)]);
    const index = () => pick([0, 1, 2, 3, 4, 255, 256, -1, 1.5]);
    const { group: g } = await group(3);
    // Two honest devices join, so that later phases have a roster to be attacked in.
    const honest = [0, 1].map((i) => secureRound(transport(g, member(i)), TASK, { delta: deltas[i], examples: 10 }).catch((error: unknown) => error));
    for (let n = 0; n < 400; n++) {
      const who = member(pick([0, 1, 2, 3, 9]));
      const step = pick(["keys", "shares", "masked", "reveal", "outcome"] as const);
      const call = async () => {
        if (step === "keys") return g.join(who, { maskKey: text(), shareKey: text() });
        if (step === "shares") return g.share(who, { shares: Array.from({ length: Math.floor(random() * 4) }, () => ({ to: index(), sealed: text() })) });
        if (step === "masked") return g.mask(who, new Uint32Array(pick([0, 4, 5, 6])));
        if (step === "reveal") return g.reveal(who, { seedShares: [{ of: index(), share: text() }], maskKeyShares: random() < 0.5 ? [] : [{ of: index(), share: text() }] });
        return g.outcome(who, pick(["roster", "shares", "unmask", "receipt"] as const), 1);
      };
      await call().catch((error: unknown) => expect(error, `${step} #${n}`).toBeInstanceOf(PropiusError));
    }
    // Whatever the honest devices got is a receipt or a stable error.
    for (const outcome of await Promise.all(honest)) if (outcome instanceof Error) expect(outcome).toBeInstanceOf(PropiusError);
  });
});
