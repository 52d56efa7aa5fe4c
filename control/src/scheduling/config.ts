import { PropiusError } from "@propius/shared";
import { EligibleCounter, withAdmission } from "./admission.js";
import { POLICY_NAMES, createPolicy, isPolicyName, type Policy } from "./policies/index.js";

/** The policy when SCHEDULING_POLICY is unset. */
export const DEFAULT_POLICY = "irs";
/** Client-manager shards when CLIENT_SHARDS is unset. */
export const DEFAULT_CLIENT_SHARDS = 4;

/**
 * The configured resource-sharing policy, with feasibility-aware admission in front (see
 * admission.ts: a shard's sample is its share of the devices, so the directory's count over every
 * shard decides); an unknown name is refused as `not_configured`, not replaced by a default.
 */
export function schedulingPolicy(env: { SCHEDULING_POLICY?: string }): Policy {
  const name = env.SCHEDULING_POLICY ?? DEFAULT_POLICY;
  if (!isPolicyName(name)) throw new PropiusError("not_configured", `SCHEDULING_POLICY is '${name}'; use one of ${POLICY_NAMES.join(", ")}`);
  return withAdmission(createPolicy(name), new EligibleCounter(false));
}

/** How many client-manager shards check-ins are spread over. */
export function clientShards(env: { CLIENT_SHARDS?: string }): number {
  const shards = Number(env.CLIENT_SHARDS ?? DEFAULT_CLIENT_SHARDS);
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024) throw new PropiusError("not_configured", `CLIENT_SHARDS is '${env.CLIENT_SHARDS}'; use an integer from 1 to 1024`);
  return shards;
}

/** How long a client-manager shard reuses the directory's list of running jobs. */
export function viewTtlMs(env: { SCHEDULER_VIEW_TTL_MS?: string }): number | undefined {
  if (env.SCHEDULER_VIEW_TTL_MS === undefined) return undefined;
  const ms = Number(env.SCHEDULER_VIEW_TTL_MS);
  if (!Number.isFinite(ms) || ms < 0) throw new PropiusError("not_configured", `SCHEDULER_VIEW_TTL_MS is '${env.SCHEDULER_VIEW_TTL_MS}'; use a number of milliseconds`);
  return ms;
}
