import type { CombinedSum, JobCore } from "../job/job-core.js";
import { addFloatChunks } from "./float-chunks.js";
import type { Folded, PartialKey, SealedPartial } from "./partial-sum.js";

/** An aggregator shard as the job sees it: over RPC in the Durable Object, in process in tests. */
export interface ShardPort {
  /** The updates folded into the partial sum of `key` so far. */
  folded(key: PartialKey): Promise<Folded[]>;
  seal(key: PartialKey): Promise<SealedPartial>;
  /** The sealed sum's bytes (float32, little-endian). */
  sum(key: PartialKey): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

/**
 * Round close, the top of the hierarchy: seals every shard's partial sum for the round attempt,
 * counts what the shards folded but the job never heard of, and adds the partial sums one at a
 * time as they stream in, into `target` (memory: the total plus one chunk).
 */
export async function combineShards(core: JobCore, pending: { key: PartialKey; shards: number }, shard: (index: number) => ShardPort, target: Float32Array): Promise<CombinedSum> {
  const sealed = await Promise.all(Array.from({ length: pending.shards }, (_, i) => shard(i).seal(pending.key)));
  core.reconcile(pending.key, sealed.flatMap((s) => s.folded));
  target.fill(0);
  const total: CombinedSum = { sum: target, weight: 0, examples: 0, count: 0, belowBound: 0 };
  for (const [i, { meta }] of sealed.entries()) {
    if (meta.count === 0) continue;
    await addFloatChunks(total.sum, await shard(i).sum(pending.key));
    total.weight += meta.weight;
    total.examples += meta.examples;
    total.count += meta.count;
    total.belowBound += meta.belowBound ?? 0;
  }
  return total;
}

/**
 * Before a round's deadline decides close or retry: counts the updates the shards folded whose
 * commit never reached the job, so that the decision rests on every update the shards accepted.
 */
export async function countUncommittedFolds(core: JobCore, now: number, shard: (index: number) => ShardPort): Promise<void> {
  const due = core.deadlineDecisionDue(now);
  if (!due) return;
  const folded = await Promise.all(Array.from({ length: due.shards }, (_, i) => shard(i).folded(due.key)));
  core.reconcile(due.key, folded.flat());
}
