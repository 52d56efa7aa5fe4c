import { allocateWeights, type BaseValues } from "@propius/shared";
import type { JobCore } from "../job/job-core.js";
import type { JobRecord } from "../job/job-store.js";
import { combineShards, type ShardPort } from "./combine-shards.js";

/** What closing a round reaches outside the job: its shards and the model store. */
export interface RoundClosePorts {
  shard(index: number): ShardPort;
  /** The round's base model, as its values stream in. */
  baseModel(hash: string): Promise<BaseValues>;
  /** Stores the next model's bytes; returns its hash. */
  storeModel(bytes: Uint8Array): Promise<string>;
  release(index: number, key: { round: number; attempt: number }): Promise<void>;
  now(): number;
}

/**
 * Closes the round waiting for aggregation, top to bottom: seal every shard's partial sum, count
 * what the shards folded but the job never heard of, combine the sums as they stream in (into the
 * next model's own buffer), apply the job's strategy over the base model, store the next model,
 * record it and open the next round; then let the shards drop their sums. Returns the job after
 * the close, or null when no round was waiting. A failure before the record leaves the round
 * aggregating, to be tried again from the same stored inputs.
 */
export async function closeRound(core: JobCore, ports: RoundClosePorts): Promise<{ job: JobRecord; sum: Float32Array } | null> {
  const pending = core.pendingAggregation();
  if (!pending) return null;
  const next = allocateWeights({ kind: "model", codec: "fp32", tensors: pending.tensors });
  const total = await combineShards(core, pending, ports.shard, next.values);
  const state = await core.aggregate(await ports.baseModel(pending.baseHash), total);
  const hash = await ports.storeModel(next.bytes);
  const job = core.completeAggregation(pending.key.round, hash, ports.now(), state, total);
  // The model is stored: the partial sums are no longer needed (a shard also drops one when the next round's first update arrives).
  await Promise.allSettled(Array.from({ length: pending.shards }, (_, i) => ports.release(i, pending.key)));
  return { job, sum: next.values };
}
