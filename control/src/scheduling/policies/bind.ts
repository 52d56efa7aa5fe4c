import { meetsConstraints } from "@propius/shared";
import type { DeviceView, JobView, Policy, Random, SchedulerView } from "./policy.js";

export type CheckInOutcome =
  /** The device already holds a live slot: it stays with that job (a device serves one job at a time). */
  | { kind: "kept"; job: JobView; refused: 0 }
  | { kind: "bound"; job: JobView; refused: number }
  | { kind: "wait"; refused: number };

/**
 * A device checks in, in the simulator: one binding attempt. The server (`ClientManager.checkIn`)
 * follows the same order with asynchronous claims, and turns private constraints into offers.
 *
 * A device that holds a live slot keeps it and is offered nothing else. Otherwise the policy orders
 * the jobs; the device skips those whose private constraints it does not meet, and claims a slot of
 * the first that grants one. The server refuses, whatever the policy offered, a job whose public
 * constraints the device does not meet (the only check client-side choice gets) and a full round.
 * `refused` counts the claims refused on the way: handshakes that bound nothing.
 */
export function checkIn(input: {
  policy: Policy;
  view: SchedulerView;
  device: DeviceView;
  random: Random;
  /** The job in whose current round attempt the device holds a live slot, if any. */
  holding: JobView | null;
  /** Device side: whether the device meets the job's private constraints. */
  acceptsPrivately: (job: JobView) => boolean;
  /** Server side: claims a slot of the job's current attempt, atomically; false when none is free. */
  claim: (job: JobView) => boolean;
}): CheckInOutcome {
  if (input.holding) return { kind: "kept", job: input.holding, refused: 0 };
  let refused = 0;
  for (const job of input.policy.offer(input.view, input.device, input.random)) {
    if (!input.acceptsPrivately(job)) continue;
    if (!meetsConstraints(input.device.attributes, job.constraints) || !input.claim(job)) {
      refused += 1;
      continue;
    }
    return { kind: "bound", job, refused };
  }
  return { kind: "wait", refused };
}
