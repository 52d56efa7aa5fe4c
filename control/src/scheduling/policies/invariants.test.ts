import { describe, expect, it } from "vitest";
import type { Constraints } from "@propius/shared";
import { RoundSlots, slotCapacity } from "../../job/round-slots.js";
import { randomInt, seededRandom, type Random } from "../../simulator/random.js";
import { POLICY_NAMES, checkIn, createPolicy, type DeviceView, type JobView, type PolicyName } from "./index.js";

/**
 * Property tests: random interleavings of check-ins, reports, lease expiries (time passing),
 * deadlines, new rounds with other demands, and jobs coming and going, for every policy. Every
 * binding is recorded here, apart from the ledger, and checked against:
 *  - no round attempt holds more than demand x over-commit live or reported slots;
 *  - a device is bound only to jobs whose public and private constraints it meets;
 *  - a device holds a live slot in at most one job at a time;
 *  - a lease that has expired no longer holds its slot (the ledger's count equals ours).
 */

interface SimJob {
  view: JobView;
  slots: RoundSlots;
  attemptKey: string;
  privateMin: number;
  rounds: number;
}

interface Binding {
  device: string;
  job: string;
  attemptKey: string;
  leaseUntil: number;
  reported: boolean;
}

/** The reference eligibility test, written apart from the production one on purpose. */
function referenceMeets(attributes: Record<string, unknown>, constraints: Constraints | undefined): boolean {
  for (const [name, c] of Object.entries(constraints ?? {})) {
    const value = attributes[name];
    if ("in" in c) {
      if (!c.in.some((allowed) => allowed === value)) return false;
    } else if (typeof value !== "number" || (c.min !== undefined && value < c.min) || (c.max !== undefined && value > c.max)) return false;
  }
  return true;
}

function randomConstraints(random: Random): Constraints | undefined {
  const pick = randomInt(random, 4);
  if (pick === 0) return undefined;
  if (pick === 1) return { ram_gb: { min: randomInt(random, 7) } };
  if (pick === 2) return { ram_gb: { min: randomInt(random, 4), max: 4 + randomInt(random, 5) }, os: { in: ["a", "b"] } };
  return { os: { in: [["a", "b", "c"][randomInt(random, 3)]] } };
}

function run(policyName: PolicyName, seed: number, steps: number): { bindings: number } {
  const random = seededRandom(seed, 1);
  const policy = createPolicy(policyName);
  const devices: (DeviceView & { dataset: number })[] = Array.from({ length: 24 }, (_, i) => ({
    id: `d${i}`,
    attributes: { ram_gb: 1 + randomInt(random, 8), os: ["a", "b", "c"][randomInt(random, 3)] },
    speed: 10 + randomInt(random, 100),
    dataset: 50 + randomInt(random, 250),
  }));
  const supply = { version: 1, spanSeconds: 60, devices };
  const jobs: SimJob[] = [];
  const bindings: Binding[] = [];
  let now = 0;
  let made = 0;
  let nextJob = 0;

  const openAttempt = (job: SimJob, round: number, attempt: number) => {
    if (job.attemptKey) forget(job.attemptKey);
    const demand = 1 + randomInt(random, 5);
    const overCommit = [1, 1.3, 1.5, 2][randomInt(random, 4)];
    job.slots = new RoundSlots({ demand, overCommit, minReportFraction: 0.6 }, now + 30_000 + randomInt(random, 60_000), 2_000 + randomInt(random, 30_000));
    job.attemptKey = `${job.view.id}:${round}/${attempt}`;
    job.view = { ...job.view, demand, overCommit, remainingRounds: job.rounds - round + 1, roundKey: `${round}/${attempt}`, attempt };
  };
  const addJob = () => {
    const id = `j${nextJob++}`;
    const rounds = 1 + randomInt(random, 4);
    const view: JobView = { id, arrivedAt: now, constraints: randomConstraints(random), openSlots: 0, demand: 1, overCommit: 1, remainingRounds: rounds, priority: 1 + randomInt(random, 2), roundKey: "", attempt: 0 };
    const job: SimJob = { view, slots: null as unknown as RoundSlots, attemptKey: "", privateMin: 50 + randomInt(random, 200), rounds };
    openAttempt(job, 1, 0);
    jobs.push(job);
  };
  const roundOf = (job: SimJob) => Number(job.view.roundKey.split("/")[0]);
  const advanceRound = (job: SimJob) => {
    const round = roundOf(job);
    if (round >= job.rounds) {
      forget(job.attemptKey);
      jobs.splice(jobs.indexOf(job), 1);
    }
    else openAttempt(job, round + 1, 0);
  };
  const liveCount = (job: SimJob) => bindings.filter((b) => b.attemptKey === job.attemptKey && (b.reported || b.leaseUntil >= now)).length;
  const check = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`${policyName}, seed ${seed}, t=${now}: ${what}`);
  };
  /** Forgets the bindings of attempts that ended: their slots are gone with them. */
  const forget = (key: string) => {
    for (let i = bindings.length - 1; i >= 0; i--) if (bindings[i].attemptKey === key) bindings.splice(i, 1);
  };

  for (let step = 0; step < steps; step++) {
    const op = randomInt(random, 10);
    if (jobs.length === 0 || (op === 0 && jobs.length < 6)) addJob();
    else if (op <= 4) {
      const device = devices[randomInt(random, devices.length)];
      for (const job of jobs) job.view = { ...job.view, openSlots: job.slots.open(now) };
      const holding = jobs.find((j) => j.slots.holder(device.id, now)?.status === "bound")?.view ?? null;
      const outcome = checkIn({
        policy,
        view: { now, jobs: jobs.map((j) => j.view), supply },
        device,
        random,
        holding,
        acceptsPrivately: (view) => device.dataset >= jobs.find((j) => j.view.id === view.id)!.privateMin,
        claim: (view) => jobs.find((j) => j.view.id === view.id)!.slots.claim(device.id, now).kind === "bind",
      });
      if (outcome.kind === "bound") {
        const job = jobs.find((j) => j.view.id === outcome.job.id)!;
        check(referenceMeets(device.attributes, job.view.constraints), "bound to a job whose public constraints it does not meet");
        check(device.dataset >= job.privateMin, "bound to a job whose private constraints it does not meet");
        check(!bindings.some((b) => b.device === device.id && !b.reported && b.leaseUntil >= now), `${device.id} bound to two jobs`);
        // A device whose lease expired may bind again in the same attempt; its old binding is gone.
        for (let i = bindings.length - 1; i >= 0; i--) {
          const b = bindings[i];
          if (b.device === device.id && b.attemptKey === job.attemptKey && !b.reported) {
            check(b.leaseUntil < now, "bound again while its lease is live");
            bindings.splice(i, 1);
          }
        }
        bindings.push({ device: device.id, job: job.view.id, attemptKey: job.attemptKey, leaseUntil: job.slots.holder(device.id, now)!.leaseUntil, reported: false });
        made += 1;
      }
    } else if (op <= 6) {
      const open = bindings.filter((b) => !b.reported);
      if (open.length > 0) {
        const b = open[randomInt(random, open.length)];
        const job = jobs.find((j) => j.attemptKey === b.attemptKey)!;
        const answer = job.slots.report(b.device, now);
        check((answer === "accepted") === now <= b.leaseUntil, "a report counts exactly while its lease is live");
        if (answer === "accepted") {
          b.reported = true;
          if (job.slots.status === "aggregating") advanceRound(job);
        }
      }
    } else if (op <= 8) now += randomInt(random, 8_000);
    else {
      const job = jobs[randomInt(random, jobs.length)];
      now = Math.max(now, job.slots.deadline);
      if (job.slots.atDeadline() === "aggregate") advanceRound(job);
      else openAttempt(job, roundOf(job), Number(job.view.roundKey.split("/")[1]) + 1);
    }
    for (const job of jobs) {
      const held = job.slots.held(now);
      check(held === liveCount(job), "the ledger's count of held slots differs (an expired lease still holds its slot?)");
      check(held <= slotCapacity(job.view), "over-assigned round");
    }
  }
  return { bindings: made };
}

describe("scheduling invariants under random interleavings", () => {
  for (const name of POLICY_NAMES) {
    it(`${name}: never over-assigns a round, respects eligibility, binds a device to one job at a time, frees expired leases`, () => {
      let bindings = 0;
      for (let seed = 1; seed <= 60; seed++) bindings += run(name, seed, 400).bindings;
      // The interleavings must exercise binding, not just pass vacuously.
      expect(bindings).toBeGreaterThan(1_000);
    });
  }

  it("an expired lease frees its slot for another device", () => {
    const slots = new RoundSlots({ demand: 1, overCommit: 2, minReportFraction: 1 }, 100_000, 1_000);
    expect(slots.claim("a", 0).kind).toBe("bind");
    expect(slots.claim("b", 0).kind).toBe("bind");
    expect(slots.claim("c", 500).kind).toBe("wait");
    expect(slots.claim("c", 1_001).kind).toBe("bind");
    expect(slots.held(1_001)).toBe(1);
  });
});
