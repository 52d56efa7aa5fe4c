import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.js";
import { reply, type Reply } from "../job/reply.js";
import { drain, fromStream } from "../http/byte-stream.js";
import { AggregatorCore } from "./aggregator-core.js";
import { SqliteAggregatorStore } from "./sqlite-aggregator-store.js";
import type { Admission, Folded, PartialKey, SealedPartial } from "./partial-sum.js";

/**
 * One aggregator shard of one job: a thin Durable Object adapter over AggregatorCore with SQLite
 * storage. Updates are read and folded one at a time, so memory is the partial sum plus one
 * update however many devices upload at once (the others wait, unread, in their streams).
 */
export class AggregatorObject extends DurableObject<Env> {
  private readonly core: AggregatorCore;
  private folding: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.core = new AggregatorCore(new SqliteAggregatorStore(ctx.storage.sql, ctx.storage));
  }

  fold(admission: Admission, body: ReadableStream<Uint8Array>): Promise<Reply<Folded>> {
    const turn = this.folding.then(() =>
      reply(async () => {
        try {
          return this.core.earlierFold(admission) ?? this.core.fold(admission, await fromStream(body));
        } finally {
          // Refused or repeated before reading: the body is not needed, but is received to its end (see `drain`).
          if (!body.locked) await drain(body);
        }
      }),
    );
    this.folding = turn.catch(() => undefined);
    return turn;
  }

  folded(key: PartialKey): Promise<Reply<Folded[]>> {
    return reply(() => this.core.folded(key));
  }

  seal(key: PartialKey): Promise<Reply<SealedPartial>> {
    return reply(() => this.core.seal(key));
  }

  /** The sealed sum as a stream of 1 MiB chunks (a 10M-parameter sum is over the 32 MiB RPC limit). */
  sum(key: PartialKey): Promise<Reply<ReadableStream<Uint8Array>>> {
    return reply(() => {
      const chunks = this.core.sumChunks(key)[Symbol.iterator]();
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      });
    });
  }

  release(key: PartialKey): Promise<Reply<void>> {
    return reply(() => this.core.release(key));
  }
}
