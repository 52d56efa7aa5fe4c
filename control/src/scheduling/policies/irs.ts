import { constraintKey, meetsConstraints, type Constraints } from "@propius/shared";
import { byRemainingService, type DeviceView, type JobView, type Policy, type SupplySample } from "./policy.js";
import { fastTierBoundary } from "./tiers.js";

/**
 * Venn's Intersection Resource Scheduling (IRS), as formulated here.
 *
 * The jobs that want devices (free slots in their round) are grouped by identical public
 * constraints. For each group g:
 *   A_g   eligible supply: devices in the supply sample (devices heard from recently) meeting g's constraints;
 *   m_g   demand: the free slots of g's jobs.
 *
 * 1. Disjoint allocation, scarcest first. Groups are ordered by A_g ascending (ties by key). Each
 *    sampled device is allocated to the first group in that order whose constraints it meets, its
 *    home; a_g counts the devices homed in g. The sets are disjoint: a scarce group keeps the devices
 *    that it could use, before more abundant groups, which could use other devices, are served.
 * 2. Merging, most abundant first. For each group g not yet merged, from the most abundant down, and
 *    each scarcer group h not yet merged, in order of decreasing supply, g absorbs h while
 *        m_g / a_g  >  m_h / a_h          (g has more demand per device than h)
 *    and then m_g += m_h, a_g += a_h. The first h that fails the test ends g's merging. A merged
 *    group shares its devices among all its jobs.
 * 3. A device is offered, first, the jobs of its home's merged group that it is eligible for, by
 *    smallest remaining service first (oldest first among equals); then, so that no device idles
 *    while an eligible job wants it, its other eligible jobs in the same order.
 * 4. Tier matching (tiers.ts): the round of the first job of each merged group may be reserved for
 *    the fast half of the sampled devices that are homed in that merged group and eligible for the
 *    job, decided once per round attempt; a slow device is not offered a reserved round.
 */

export interface IrsGroup {
  key: string;
  constraints: Constraints | undefined;
  jobs: JobView[];
  /** m: free slots of the group's jobs. */
  demand: number;
  /** A: sampled devices eligible for the group. */
  supply: number;
  /** a: sampled devices homed in the group. */
  allocated: number;
}

export interface IrsPlan {
  /** Groups, scarcest first. */
  groups: IrsGroup[];
  /** For each group (same index), the index of the group it was merged into (itself if none). */
  owner: number[];
}

/** Step 2: `groups` scarcest first, with their demand and allocation; returns each group's owner. */
export function mergeGroups(groups: readonly { demand: number; allocated: number }[]): number[] {
  const owner = groups.map((_, i) => i);
  for (let g = groups.length - 1; g >= 0; g--) {
    if (owner[g] !== g) continue;
    let m = groups[g].demand;
    let a = groups[g].allocated;
    for (let h = g - 1; h >= 0; h--) {
      if (owner[h] !== h) continue;
      // m / a > m_h / a_h, cross-multiplied so that a group with no devices compares soundly.
      if (m * groups[h].allocated > groups[h].demand * a) {
        owner[h] = g;
        m += groups[h].demand;
        a += groups[h].allocated;
      } else break;
    }
  }
  return owner;
}

/** What the policy derives from one supply sample, kept until the sample changes. */
class SupplyIndex {
  private readonly counts = new Map<string, number>();
  private readonly homes = new Map<string, { homes: Int32Array; counts: number[] }>();
  constructor(readonly sample: SupplySample) {}

  /** Sampled devices that meet the constraints. */
  eligible(key: string, constraints: Constraints | undefined): number {
    let count = this.counts.get(key);
    if (count === undefined) {
      count = 0;
      for (const d of this.sample.devices) if (meetsConstraints(d.attributes, constraints)) count += 1;
      this.counts.set(key, count);
    }
    return count;
  }

  /**
   * Step 1: each sampled device's home, the index of the first group (scarcest first) it is
   * eligible for, or -1; and the devices homed in each group.
   */
  homesFor(groups: readonly IrsGroup[]): { homes: Int32Array; counts: number[] } {
    const cacheKey = groups.map((g) => g.key).join("\n");
    let cached = this.homes.get(cacheKey);
    if (!cached) {
      const homes = Int32Array.from(this.sample.devices, (d) => groups.findIndex((g) => meetsConstraints(d.attributes, g.constraints)));
      const counts = groups.map(() => 0);
      for (const home of homes) if (home >= 0) counts[home] += 1;
      cached = { homes, counts };
      this.homes.set(cacheKey, cached);
    }
    return cached;
  }
}

export function irsPolicy(): Policy {
  let index: SupplyIndex | null = null;
  const tiers = new Map<string, { roundKey: string; boundary: number | null }>();

  const supplyIndex = (sample: SupplySample) => {
    if (!index || index.sample.version !== sample.version) index = new SupplyIndex(sample);
    return index;
  };

  /**
   * The fast-tier boundary of a job's current round attempt, if it is reserved for the fast tier;
   * decided at the first offer of the attempt, for the first job of a merged group only, from the
   * sampled devices homed in that merged group which are eligible for the job.
   */
  function tierOf(job: JobView, root: number | null, plan: IrsPlan & { homes: Int32Array }, sample: SupplySample): number | null {
    const known = tiers.get(job.id);
    if (known?.roundKey === job.roundKey) return known.boundary;
    let boundary: number | null = null;
    if (root !== null) {
      const speeds: number[] = [];
      sample.devices.forEach((d, i) => {
        const home = plan.homes[i];
        if (home >= 0 && plan.owner[home] === root && meetsConstraints(d.attributes, job.constraints)) speeds.push(d.speed);
      });
      boundary = fastTierBoundary(job, Float64Array.from(speeds).sort(), sample.spanSeconds);
    }
    tiers.set(job.id, { roundKey: job.roundKey, boundary });
    return boundary;
  }

  return {
    name: "irs",
    serverSideEligibility: true,
    offer(view, device: DeviceView) {
      const plan = planWith(view.jobs, supplyIndex(view.supply));
      const { groups, owner } = plan;
      const home = groups.findIndex((g) => meetsConstraints(device.attributes, g.constraints));
      if (home < 0) return [];
      const root = owner[home];
      const primary: JobView[] = [];
      const others: JobView[] = [];
      const heads = new Map<number, JobView>();
      groups.forEach((g, i) => {
        for (const job of g.jobs) {
          const head = heads.get(owner[i]);
          if (!head || byRemainingService(job, head) < 0) heads.set(owner[i], job);
        }
      });
      groups.forEach((g, i) => {
        if (!meetsConstraints(device.attributes, g.constraints)) return;
        for (const job of g.jobs) {
          const boundary = tierOf(job, heads.get(owner[i]) === job ? owner[i] : null, plan, view.supply);
          if (boundary !== null && device.speed > boundary) continue;
          (owner[i] === root ? primary : others).push(job);
        }
      });
      if (tiers.size > 4 * view.jobs.length + 64) {
        const live = new Set(view.jobs.map((j) => j.id));
        for (const id of tiers.keys()) if (!live.has(id)) tiers.delete(id);
      }
      return [...primary.sort(byRemainingService), ...others.sort(byRemainingService)];
    },
  };
}

/** The plan IRS makes for a set of jobs and a supply sample, for inspection and tests. */
export function irsPlan(jobs: readonly JobView[], sample: SupplySample): IrsPlan {
  return planWith(jobs, new SupplyIndex(sample));
}

function planWith(jobs: readonly JobView[], supply: SupplyIndex): IrsPlan & { homes: Int32Array } {
  const byKey = new Map<string, IrsGroup>();
  for (const job of jobs) {
    if (job.openSlots <= 0) continue;
    const key = constraintKey(job.constraints);
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { key, constraints: job.constraints, jobs: [], demand: 0, supply: 0, allocated: 0 }));
    group.jobs.push(job);
    group.demand += job.openSlots;
  }
  const groups = [...byKey.values()];
  for (const g of groups) g.supply = supply.eligible(g.key, g.constraints);
  groups.sort((a, b) => a.supply - b.supply || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { homes, counts } = supply.homesFor(groups);
  groups.forEach((g, i) => (g.allocated = counts[i]));
  return { groups, owner: mergeGroups(groups), homes };
}
