import { DurableObject } from "cloudflare:workers";
import { PropiusError, type SecureKeys, type SecurePhase, type SecureReveal, type SecureShares, type UpdateReceipt } from "@propius/shared";
import type { Env } from "../env.js";
import { reply, unwrap, type Reply } from "../job/reply.js";
import { drain } from "../http/byte-stream.js";
import { fillWithin, uploadIdleMs } from "../http/timed-read.js";
import { secret } from "../middleware/auth/index.js";
import { tickets } from "../auth/tickets.js";
import { jobOf } from "../directory/directory-client.js";
import { AggregatorCore } from "./aggregator-core.js";
import { SecureShard, type SecureCall } from "./secure-shard.js";
import { SqliteAggregatorStore } from "./sqlite-aggregator-store.js";
import type { PartialKey, SealedPartial, Folded } from "./partial-sum.js";
import type { JobPort, StreamedBody, Upload } from "./shard-ports.js";
import { countersOf, type ObjectCounters } from "../diagnostics/object-counters.js";

/**
 * One aggregator shard of one job: a thin Durable Object adapter over AggregatorCore with SQLite
 * storage, and the job reached over RPC. Uploads are decoded one at a time, so memory is the
 * partial sum plus one scratch buffer however many devices upload at once (the others wait,
 * unread, in their streams).
 */
export class AggregatorObject extends DurableObject<Env> {
  private readonly core: AggregatorCore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const job: JobPort = {
      describe: (jobId) => unwrap(jobOf(env, jobId).describe()),
      admit: (jobId, input) => unwrap(jobOf(env, jobId).admitUpdate(input)),
      commitFolds: (jobId, records) => jobOf(env, jobId).commitFolds(records),
      clipBound: (jobId) => unwrap(jobOf(env, jobId).clipBound()),
      secureBound: (jobId, key, shard) => unwrap(jobOf(env, jobId).secureBound(key, shard)),
    };
    this.job = job;
    this.core = new AggregatorCore(new SqliteAggregatorStore(ctx.storage.sql, ctx.storage), job, this.tickets);
  }

  private readonly job: JobPort;
  private readonly tickets = tickets(secret(this.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"));
  private secureShard: SecureShard | null = null;

  /** Secure aggregation's side of the shard (one shard index per object). */
  private secure(shard: number): SecureShard {
    this.secureShard ??= new SecureShard(this.core, this.job, this.tickets, shard);
    return this.secureShard;
  }

  /** Secure aggregation (see SecureShard): a device's keys; its index in its group. */
  secureJoin(call: SecureCall, shard: number, keys: SecureKeys): Promise<Reply<{ index: number }>> {
    return reply(() => this.secure(shard).join(call, keys));
  }

  secureShare(call: SecureCall, shard: number, shares: SecureShares): Promise<Reply<{ accepted: true }>> {
    return reply(() => this.secure(shard).share(call, shares));
  }

  /** A masked input: exactly 4 bytes for each of the model's parameters and the weight, read whole (ended with `upload_stalled` when it stalls). */
  secureMask(call: SecureCall, shard: number, body: ReadableStream<Uint8Array>, declaredBytes: number | null): Promise<Reply<{ accepted: true; bytes: number }>> {
    const idleMs = uploadIdleMs(this.env);
    return reply(async () => {
      const secure = this.secure(shard);
      await secure.describe(call.jobId);
      const expected = 4 * secure.maskedLength;
      if (declaredBytes !== null && declaredBytes !== expected) throw new PropiusError("invalid_update", `a masked input is ${expected} bytes; this one declares ${declaredBytes}`);
      const bytes = await readWhole(body, expected, idleMs);
      if (bytes.length !== expected) throw new PropiusError("invalid_update", `a masked input is ${expected} bytes; this one is ${bytes.length}`);
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
      return secure.mask(call, new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4));
    }).finally(() => drain(body.locked ? null : body, idleMs));
  }

  secureReveal(call: SecureCall, shard: number, body: SecureReveal): Promise<Reply<{ accepted: true }>> {
    return reply(() => this.secure(shard).reveal(call, body));
  }

  /** A phase's outcome for the device, or null (ask again) once the ask was held open a while. */
  secureOutcome(call: SecureCall, shard: number, phase: SecurePhase): Promise<Reply<Awaited<ReturnType<SecureShard["outcome"]>>>> {
    return reply(() => this.secure(shard).outcome(call, phase));
  }

  /**
   * One device's upload (see `submitUpdate`): the receipt once its fold is durable and counted. The
   * body is the request's stream, handed on by the Worker unread; the shard reads it whole ahead
   * of its turn, or 1 MiB at a time in its turn (see BodyReadAhead), and ends it with
   * `upload_stalled` when it brings no bytes for UPLOAD_IDLE_MS.
   */
  submit(upload: Omit<Upload, "body">, shard: number, body: ReadableStream<Uint8Array>, declaredBytes: number | null): Promise<Reply<UpdateReceipt>> {
    const idleMs = uploadIdleMs(this.env);
    const streamed: StreamedBody = { declaredBytes, whole: () => readWhole(body, declaredBytes ?? 0, idleMs), chunks: () => readToEnd(body, idleMs) };
    return reply(() => this.core.submit({ ...upload, body: streamed }, shard, Date.now())).finally(() => drain(body.locked ? null : body, idleMs));
  }

  /** Marks an upload's ticket spent after its body was refused (see `submitUpdate`). */
  spend(upload: Omit<Upload, "body">, shard: number): Promise<Reply<void>> {
    return reply(() => this.core.spend(upload, shard, Date.now()));
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

  /** What this object has done since it started (see `GET /v1/admin/counters`). */
  async counters(): Promise<ObjectCounters> {
    return countersOf("AggregatorObject", this, this.ctx.storage.sql);
  }
}

/** A body read chunk by chunk is read this much at a time (under `wrangler dev` a request's own chunks are 4 KiB). */
const PIECE_BYTES = 1 << 20;

/**
 * A body's bytes as they arrive, in pieces of 1 MiB (the last one shorter), so the shard's work
 * per piece is spread over a megabyte rather than a few kilobytes. When the reader stops early (a
 * refused upload) the rest is still received to its end: answering while the client is still
 * sending breaks the connection (see `drain`). A body that stalls fails with `upload_stalled`.
 */
async function* readToEnd(body: ReadableStream<Uint8Array>, idleMs: number): AsyncIterable<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  let done = false;
  try {
    for (;;) {
      // A fresh buffer each time: the decoder may keep a piece it was given (the values of a small model, in place).
      const next = await fillWithin(reader, new Uint8Array(PIECE_BYTES), idleMs);
      if (next.bytes.length > 0) yield next.bytes;
      if (next.done) return void (done = true);
    }
  } finally {
    reader.releaseLock();
    if (!done) await drain(body, idleMs);
  }
}

/**
 * The body's bytes, read straight into one buffer of its declared size (no chunks to gather and
 * copy). A body that ends early comes back shorter, for the decoder to refuse; one that stalls
 * fails with `upload_stalled`.
 */
async function readWhole(body: ReadableStream<Uint8Array>, declaredBytes: number, idleMs: number): Promise<Uint8Array> {
  const reader = body.getReader({ mode: "byob" });
  try {
    const read = await fillWithin(reader, new Uint8Array(Math.max(1, declaredBytes)), idleMs);
    if (read.done || (await fillWithin(reader, new Uint8Array(1), idleMs)).done) return read.bytes;
    throw new PropiusError("invalid_update", `the body is longer than its declared ${declaredBytes} bytes`);
  } finally {
    reader.releaseLock();
  }
}
