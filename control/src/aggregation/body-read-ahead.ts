import type { Chunks, StreamedBody } from "./shard-ports.js";

/** Bodies read ahead by one shard hold at most this many bytes at once (declared sizes). */
export const READ_AHEAD_BYTES = 16 << 20;

/** An upload's body once it has reached the shard: its chunks, and what to call once they are folded. */
export interface ArrivedBody {
  chunks: Chunks;
  release(): void;
}

const isStreamed = (body: Chunks | StreamedBody): body is StreamedBody => "whole" in body && typeof body.whole === "function";

/**
 * Decides how an upload's body reaches the shard. A request stream whose declared size fits in
 * what is left of the budget is read whole at once (native reads of 64 KiB or more, no per-chunk work), while
 * earlier uploads are being decoded: a slow device then holds up nobody. Any other body is read piece by piece in the shard's
 * turn (memory one piece, the rest waits unread in its stream), as is every body once the budget
 * is taken (a model larger than the budget always is).
 */
export class BodyReadAhead {
  private held = 0;

  constructor(private readonly budget = READ_AHEAD_BYTES) {}

  /** Bytes of bodies read ahead and not yet folded. */
  get heldBytes(): number {
    return this.held;
  }

  async arrive(body: Chunks | StreamedBody): Promise<ArrivedBody> {
    if (!isStreamed(body)) return { chunks: body, release: () => undefined };
    const bytes = body.declaredBytes;
    if (bytes === null || this.held + bytes > this.budget) return { chunks: body.chunks(), release: () => undefined };
    this.held += bytes;
    let released = false;
    const release = () => {
      if (!released) this.held -= bytes;
      released = true;
    };
    try {
      return { chunks: [await body.whole()], release };
    } catch (error) {
      release();
      throw error;
    }
  }
}
