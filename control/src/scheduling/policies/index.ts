import { clientRandomPolicy } from "./client-random.js";
import { fifoPolicy } from "./fifo.js";
import { irsPolicy } from "./irs.js";
import { POLICY_NAMES, type Policy, type PolicyName } from "./policy.js";
import { randomPolicy } from "./random.js";
import { srsfPolicy } from "./srsf.js";
import { staticPartitionPolicy } from "./static-partition.js";

export * from "./policy.js";
export { meetsConstraints, constraintKey, type Attributes } from "@propius/shared";
export { checkIn, type CheckInOutcome } from "./bind.js";
export { irsPlan, mergeGroups, type IrsGroup, type IrsPlan } from "./irs.js";
export { fastTierBoundary } from "./tiers.js";
export { hashId } from "./static-partition.js";

const FACTORIES: Record<PolicyName, () => Policy> = {
  fifo: fifoPolicy,
  random: randomPolicy,
  srsf: srsfPolicy,
  irs: irsPolicy,
  "static-partition": staticPartitionPolicy,
  "client-random": clientRandomPolicy,
};

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

/** A fresh instance of the named policy (policies may cache per instance: one per scheduler). */
export function createPolicy(name: PolicyName): Policy {
  return FACTORIES[name]();
}
