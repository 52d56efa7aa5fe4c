import type { TrainingPlan } from "@propius/shared";
import { hashId } from "../scheduling/policies/index.js";

/** Devices per round one aggregator shard is sized for, when the job does not set a shard count. */
export const DEVICES_PER_SHARD = 32;
/** Largest default shard count (a job may ask for up to 64). */
export const MAX_DEFAULT_SHARDS = 16;

/**
 * The job's aggregator shards: its own setting, else one per DEVICES_PER_SHARD of the devices a
 * round binds (demand x over-commit), at most MAX_DEFAULT_SHARDS. Fixed when the job is created,
 * so a demand change never moves a device's partial sum to another shard mid-round.
 */
export function aggregatorShards(plan: Pick<TrainingPlan, "aggregatorShards" | "clientsPerRound" | "overCommit">): number {
  if (plan.aggregatorShards !== undefined) return plan.aggregatorShards;
  const devices = Math.ceil(plan.clientsPerRound * plan.overCommit);
  return Math.min(MAX_DEFAULT_SHARDS, Math.max(1, Math.ceil(devices / DEVICES_PER_SHARD)));
}

/** The shard that folds a device's updates: by a hash of its id. */
export function shardOf(clientId: string, shards: number): number {
  return hashId(clientId) % shards;
}
