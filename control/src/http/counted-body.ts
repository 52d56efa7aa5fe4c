import { PropiusError } from "@propius/shared";
import { withinIdle } from "./timed-read.js";
import { DISCARD_LIMIT, discard, drain } from "./byte-stream.js";

/** A body passed on as it streams in, counted: and the refusal that ended it, if one did. */
export interface CountedBody {
  stream: ReadableStream<Uint8Array>;
  /** `payload_too_large` or `upload_stalled` once the body was ended for it, else null. */
  failure(): PropiusError | null;
  /**
   * Settles once the client's body has been received, or given up on: a body no one read (the
   * request was refused first: a bad ticket, an unknown job) is read through to its end and
   * dropped, the part past the limit likewise. Answering while the client is still sending breaks
   * the connection (see `drain`).
   */
  rest(): Promise<void>;
}

/**
 * A body sent without a length (chunked), handed on chunk by chunk as it arrives rather than
 * gathered first: it is ended with `payload_too_large` the moment it passes `limit` bytes, and
 * with `upload_stalled` when it brings nothing for `idleMs`. Whoever reads it (an object, over
 * RPC) sees the body end short, and refuses it; `failure()` says why, for the answer.
 */
export function countedBody(source: ReadableStream<Uint8Array>, limit: number, idleMs: number): CountedBody {
  const reader = source.getReader();
  let size = 0;
  let failure: PropiusError | null = null;
  let rest: Promise<void> = Promise.resolve();
  const byteSource: UnderlyingByteSource = {
    type: "bytes",
    async pull(controller) {
      try {
        const next = await withinIdle(reader, reader.read(), idleMs);
        if (next.done) return controller.close();
        size += next.value.byteLength;
        if (size > limit) throw new PropiusError("payload_too_large", `the request body exceeds ${limit} bytes`, { limit });
        controller.enqueue(next.value);
      } catch (error) {
        // Ended short rather than failed: the reader on the far side of an RPC then refuses a cut
        // body (an error would only reach it as a bare message, and be logged as uncaught).
        failure = error instanceof PropiusError ? error : null;
        // Past the limit the rest is still received, and dropped; a stalled or broken one is given up.
        if (failure?.code === "payload_too_large") rest = discard(reader, DISCARD_LIMIT - size, idleMs);
        else reader.cancel(error).catch(() => undefined);
        controller.close();
      }
    },
    cancel: (reason) => reader.cancel(reason),
  };
  const stream = new ReadableStream(byteSource);
  return {
    stream,
    failure: () => failure,
    rest: async () => {
      if (!stream.locked) await drain(stream, idleMs);
      await rest;
    },
  };
}
