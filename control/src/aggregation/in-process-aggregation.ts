import type { UpdateReceipt } from "@propius/shared";
import type { JobCore } from "../job/job-core.js";
import { tickets as signedTickets, type Tickets } from "../auth/tickets.js";
import { AggregatorCore } from "./aggregator-core.js";
import { MemoryAggregatorStore } from "./aggregator-store.js";
import { countUncommittedFolds, type ShardPort } from "./combine-shards.js";
import { closeRound } from "./round-close.js";
import type { JobPort } from "./shard-ports.js";
import { submitUpdate } from "./submit-update.js";

/** The secret the in-process job and shards sign and check tickets with. */
export const IN_PROCESS_SECRET = "in-process-ticket-secret";
/** Tickets signed with IN_PROCESS_SECRET: what a job in process mints and its in-process shards check. */
export const inProcessTickets = signedTickets(IN_PROCESS_SECRET);

/**
 * A job's aggregator shards in one process, over memory stores, with the job called directly: the
 * production sequences (`submitUpdate`, `closeRound`) without Durable Objects or a model store, for
 * tests of the job's rounds and of the scheduler over jobs. Counts the calls and writes it makes.
 */
export class InProcessAggregation {
  readonly stores = new Map<number, MemoryAggregatorStore>();
  private readonly shards = new Map<number, AggregatorCore>();
  /** Object calls made, by callee and method (the Worker's call to a shard counts as `shard.submit`). */
  readonly calls = new Map<string, number>();
  clock = 0;
  /** How many of the next group commits fail on the way to the job (as if the shard's call to it were lost). */
  lostCommits = 0;

  constructor(
    private readonly job: JobCore,
    readonly tickets: Tickets = inProcessTickets,
  ) {}

  shard(index: number): AggregatorCore {
    let shard = this.shards.get(index);
    if (!shard) {
      const store = new MemoryAggregatorStore();
      this.stores.set(index, store);
      this.shards.set(index, (shard = new AggregatorCore(store, this.jobPort(), this.tickets)));
    }
    return shard;
  }

  private count(name: string): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  /** The job as a shard calls it. */
  private jobPort(): JobPort {
    return {
      describe: async () => (this.count("job.describe"), this.job.describe()),
      clipBound: async () => (this.count("job.clipBound"), this.job.clipBound()),
      secureBound: async (_jobId, key, shard) => (this.count("job.secureBound"), this.job.secureBound(key, shard, this.clock)),
      admit: async (_jobId, input) => (this.count("job.admitUpdate"), this.job.admitUpdate(input, this.clock)),
      commitFolds: async (_jobId, records) => {
        this.count("job.commitFolds");
        if (this.lostCommits > 0 && this.lostCommits--) throw new Error("the call to the job was lost");
        return this.job.commitFolds(records, this.clock);
      },
    };
  }

  /** Shard `index` as the job calls it. */
  private port(index: number): ShardPort {
    const shard = this.shard(index);
    return { folded: async (key) => shard.folded(key), seal: (key) => shard.seal(key), sum: async (key) => shard.sumChunks(key) };
  }

  /** One device's upload, as the route runs it (the body in chunks of `chunk` bytes, as a stream brings it). */
  submit(input: { ticket: string; clientId: string; round: number; body: Uint8Array; chunk?: number }, now: number): Promise<UpdateReceipt> {
    this.clock = now;
    const { body, chunk = 64 * 1024 } = input;
    const chunks = async function* () {
      for (let at = 0; at < body.length; at += chunk) yield body.subarray(at, at + chunk);
    };
    const jobId = this.job.jobFor(null).id;
    return submitUpdate((index) => ({ submit: (upload, shard) => (this.count("shard.submit"), this.shard(index).submit(upload, shard, now)), spend: async (upload, shard) => (this.count("shard.spend"), this.shard(index).spend(upload, shard, now)) }), { jobId, ticket: input.ticket, clientId: input.clientId, round: input.round, body: chunks() });
  }

  /** The job's alarm at `now`: the round deadline's decision counts what the shards folded first. */
  async alarm(now: number): Promise<void> {
    await countUncommittedFolds(this.job, now, (i) => this.port(i));
    this.job.onAlarm(now);
  }

  /** Closes the aggregating round from `base`: the next model, recorded under `hash`. */
  async close(base: Float32Array, hash: string, now: number): Promise<Float32Array> {
    const closed = await closeRound(this.job, {
      shard: (i) => this.port(i),
      baseModel: async () => base,
      storeModel: async () => hash,
      release: (i, key) => this.shard(i).release(key),
      now: () => now,
    });
    if (!closed) throw new Error("no round is aggregating");
    return closed.sum;
  }
}
