import { PropiusError } from "../errors.js";
import { keepsUpdates, type Robustness } from "./robustness.js";

/**
 * Bytes of a round's updates an aggregator shard may hold at once for an estimator that needs
 * every update apart: half of a Durable Object's 128 MB isolate, leaving the rest for the partial
 * sum, the scratch buffer, the bodies read ahead and the runtime.
 */
export const KEPT_UPDATES_BUDGET_BYTES = 64 * 2 ** 20;

/** What holding every update of a round costs: the figures the refusal names. */
export interface KeptUpdatesCost {
  parameters: number;
  devicesPerRound: number;
  bytes: number;
  limitBytes: number;
}

/**
 * The memory an estimator that keeps updates needs, or null for the mean (which keeps none): every
 * device a round binds (demand x over-commit) x parameters x 4 bytes. Counted for one shard: by
 * hash, any shard may receive all of a round's devices.
 */
export function keptUpdatesCost(robustness: Robustness, parameters: number, plan: { clientsPerRound: number; overCommit: number }): KeptUpdatesCost | null {
  if (!keepsUpdates(robustness.estimator)) return null;
  const devicesPerRound = Math.ceil(plan.clientsPerRound * plan.overCommit);
  return { parameters, devicesPerRound, bytes: devicesPerRound * parameters * 4, limitBytes: KEPT_UPDATES_BUDGET_BYTES };
}

/** Refuses (`aggregation_too_large`, 422) a job whose estimator would hold more than a shard can. */
export function checkKeptUpdates(robustness: Robustness, parameters: number, plan: { clientsPerRound: number; overCommit: number }): void {
  const cost = keptUpdatesCost(robustness, parameters, plan);
  if (!cost || cost.bytes <= cost.limitBytes) return;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const most = Math.floor(cost.limitBytes / (cost.parameters * 4));
  throw new PropiusError(
    "aggregation_too_large",
    `the ${robustness.estimator.kind} estimator keeps every update of a round: ${cost.devicesPerRound} devices x ${cost.parameters} parameters x 4 bytes = ${mib(cost.bytes)} MiB, over the ${mib(cost.limitBytes)} MiB one aggregator shard can hold; bind at most ${most} devices a round (clientsPerRound x overCommit), use a smaller model, or the mean estimator`,
    { ...cost, maxDevicesPerRound: most },
  );
}
