import type { UpdateReceipt } from "@propius/shared";
import type { JobCore } from "../job/job-core.js";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import { combineShards } from "./combine-shards.js";

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

  /** One device's upload, as the route runs it. */
  submit(input: { ticket: string; clientId: string; round: number; body: Uint8Array }, now: number): UpdateReceipt {
    const admission = this.job.admitUpdate(input, now);
    const folded = this.shard(admission.shard).fold(admission, input.body);
    return this.job.commitUpdate({ ticket: input.ticket, clientId: input.clientId, key: admission.key, folded }, now);
  }

  /** Closes the aggregating round from `base`: the next model, recorded under `hash`. */
  async close(base: Float32Array, hash: string, now: number): Promise<Float32Array> {
    const pending = this.job.pendingAggregation();
    if (!pending) throw new Error("no round is aggregating");
    const total = await combineShards(this.job, pending, (i) => ({
      seal: async (key) => this.shard(i).seal(key),
      sum: async (key) => this.shard(i).sumChunks(key),
    }));
    const { next, state } = this.job.aggregate(base, total);
    this.job.completeAggregation(pending.key.round, hash, now, state);
    for (let i = 0; i < pending.shards; i++) this.shard(i).release(pending.key);
    return next;
  }
}
