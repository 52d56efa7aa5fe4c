import { parameterCount, type UpdateReceipt } from "@propius/shared";
import type { JobCore } from "../job/job-core.js";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import { combineShards, countUncommittedFolds, type ShardPort } from "./combine-shards.js";

/**
 * A job's aggregator shards in one process, over memory stores: the Worker's upload path (the job
 * admits, the device's shard folds, the job commits) and the job object's round close, without
 * Durable Objects or a model store. For tests of the job's rounds and of the scheduler over jobs.
 */
export class InProcessAggregation {
  readonly stores = new Map<number, MemoryAggregatorStore>();
  private readonly shards = new Map<number, AggregatorCore>();

  constructor(private readonly job: JobCore) {}

  shard(index: number): AggregatorCore {
    let shard = this.shards.get(index);
    if (!shard) {
      const store = new MemoryAggregatorStore();
      this.stores.set(index, store);
      this.shards.set(index, (shard = new AggregatorCore(store)));
    }
    return shard;
  }

  /** Shard `index` as the job calls it. */
  private port(index: number): ShardPort {
    const shard = this.shard(index);
    return { folded: async (key) => shard.folded(key), seal: async (key) => shard.seal(key), sum: async (key) => shard.sumChunks(key) };
  }

  /** One device's upload, as the route runs it. */
  submit(input: { ticket: string; clientId: string; round: number; body: Uint8Array }, now: number): UpdateReceipt {
    const admission = this.job.admitUpdate(input, now);
    const folded = this.shard(admission.shard).fold(admission, input.body);
    return this.job.commitUpdate({ ticket: input.ticket, clientId: input.clientId, key: admission.key, folded }, now);
  }

  /** The job's alarm at `now`: the round deadline's decision counts what the shards folded first. */
  async alarm(now: number): Promise<void> {
    await countUncommittedFolds(this.job, now, (i) => this.port(i));
    this.job.onAlarm(now);
  }

  /** Closes the aggregating round from `base`: the next model, recorded under `hash`. */
  async close(base: Float32Array, hash: string, now: number): Promise<Float32Array> {
    const pending = this.job.pendingAggregation();
    if (!pending) throw new Error("no round is aggregating");
    const total = await combineShards(this.job, pending, (i) => this.port(i), new Float32Array(parameterCount(pending.tensors)));
    const state = await this.job.aggregate(base, total);
    this.job.completeAggregation(pending.key.round, hash, now, state);
    for (let i = 0; i < pending.shards; i++) this.shard(i).release(pending.key);
    return total.sum;
  }
}
