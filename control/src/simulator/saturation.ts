import type { Constraints } from "@propius/shared";
import { checkIn, createPolicy, meetsConstraints, type DeviceView, type JobView, type PolicyName } from "../scheduling/policies/index.js";
import { EventQueue } from "./event-queue.js";
import { seededRandom } from "./random.js";

/**
 * Binding throughput at saturation, as the paper means it: devices check in as fast as the
 * control plane answers them, and the control plane answers a fixed number of handshakes a second,
 * so every handshake that binds nothing takes the place of one that could have. The policies are
 * the production ones (`checkIn` over `createPolicy`), on one client-manager's view:
 *
 * - a central policy answers a check-in with a job the device is eligible for and that has a free
 *   slot, or with a wait until the earliest slot frees (the device comes back then);
 * - client-side random choice: the device picks any job, and a pick the server refuses (not
 *   eligible, or full) sends the device into the paper's back-off, doubling from `backoff.initialS`
 *   up to `backoff.maxS` with each refusal in a row, reset by a binding.
 *
 * A bound device holds its slot for `taskS` and then checks in again; every device is online.
 */
export interface SaturationInput {
  policy: PolicyName;
  devices: readonly DeviceView[];
  jobs: readonly { id: string; constraints?: Constraints; slots: number }[];
  /** Handshakes the control plane answers a second, one at a time in arrival order. */
  handshakesPerSecond: number;
  taskS: number;
  backoff: { initialS: number; maxS: number };
  durationS: number;
  seed: number;
}

export interface SaturationResult {
  policy: PolicyName;
  handshakes: number;
  bindings: number;
  /** Handshakes that bound nothing: refused picks, and answers to wait (handshakes - bindings). */
  refused: number;
  bindingsPerSecond: number;
  refusedPerBinding: number;
}

export function saturate(input: SaturationInput): SaturationResult {
  const policy = createPolicy(input.policy);
  const random = seededRandom(input.seed, 7);
  const service = 1 / input.handshakesPerSecond;
  // Each job's held slots, as the times they free: every task lasts taskS, so they free in the order taken.
  const held = input.jobs.map(() => [] as number[]);
  const views: JobView[] = input.jobs.map((job, i) => ({
    id: job.id, arrivedAt: i, constraints: job.constraints, openSlots: job.slots, demand: job.slots, overCommit: 1, remainingRounds: 1, priority: 1, roundKey: "1/0",
  }));
  const supply = { version: 1, spanSeconds: 60, devices: input.devices };
  const refusalsInRow = new Int32Array(input.devices.length);
  const queue = new EventQueue<number>();
  input.devices.forEach((_, d) => queue.push(random() * service * input.devices.length, d));
  let serverFree = 0;
  let handshakes = 0;
  let bindings = 0;

  const free = (now: number) => {
    held.forEach((slots, j) => {
      let gone = 0;
      while (gone < slots.length && slots[gone] <= now) gone += 1;
      if (gone > 0) slots.splice(0, gone);
      views[j].openSlots = input.jobs[j].slots - slots.length;
    });
  };
  /** When a slot of a job the device may serve frees: what a central policy's wait answer says. */
  const earliestFree = (device: DeviceView) => {
    let at = Number.POSITIVE_INFINITY;
    held.forEach((slots, j) => {
      if (slots.length > 0 && meetsConstraints(device.attributes, views[j].constraints)) at = Math.min(at, slots[0]);
    });
    return at;
  };

  while (queue.size > 0) {
    const d = queue.pop()!;
    const at = Math.max(queue.lastTime, serverFree);
    if (at >= input.durationS) break;
    serverFree = at + service;
    handshakes += 1;
    free(at);
    let bound = -1;
    checkIn({
      policy, view: { now: at * 1000, jobs: views, supply }, device: input.devices[d], random, holding: null,
      acceptsPrivately: () => true,
      claim: (job) => {
        const j = views.indexOf(job);
        if (views[j].openSlots <= 0) return false;
        held[j].push(at + input.taskS);
        views[j].openSlots -= 1;
        bound = j;
        return true;
      },
    });
    if (bound >= 0) {
      bindings += 1;
      refusalsInRow[d] = 0;
      queue.push(at + input.taskS, d);
    } else if (policy.serverSideEligibility) {
      const next = earliestFree(input.devices[d]);
      if (Number.isFinite(next)) queue.push(Math.max(serverFree, next), d);
    } else {
      const wait = Math.min(input.backoff.maxS, input.backoff.initialS * 2 ** refusalsInRow[d]);
      refusalsInRow[d] += 1;
      queue.push(serverFree + wait, d);
    }
  }
  const refused = handshakes - bindings;
  return {
    policy: input.policy, handshakes, bindings, refused,
    bindingsPerSecond: bindings / input.durationS,
    refusedPerBinding: bindings === 0 ? Number.POSITIVE_INFINITY : refused / bindings,
  };
}
