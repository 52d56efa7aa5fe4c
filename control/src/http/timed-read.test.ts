import { describe, expect, it } from "vitest";
import { PropiusError } from "@propius/shared";
import { drain } from "./byte-stream.js";
import { fillWithin, uploadIdleMs, DEFAULT_UPLOAD_IDLE_MS } from "./timed-read.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A byte stream that sends `pieces` with `gapMs` between them, then closes, or stays open when `stall`. */
function paced(pieces: number[][], gapMs: number, stall = false): { stream: ReadableStream<Uint8Array>; cancelled: () => unknown } {
  let reason: unknown;
  const byteSource: UnderlyingByteSource = {
    type: "bytes",
    async start(controller) {
      for (const piece of pieces) {
        await sleep(gapMs);
        if (reason !== undefined) return;
        controller.enqueue(Uint8Array.from(piece));
      }
      if (!stall) controller.close();
    },
    cancel(why) {
      reason = why;
    },
  };
  const stream = new ReadableStream(byteSource);
  return { stream, cancelled: () => reason };
}

async function stalledCode(pending: Promise<unknown>): Promise<string> {
  const error = await pending.then(() => null, (e: unknown) => e);
  return error instanceof PropiusError ? `${error.code} ${error.status}` : String(error);
}

describe("reading an upload's body within its idle time", () => {
  it("fills a buffer from many small pieces, and says when the body ended short of it", async () => {
    const { stream } = paced([[1, 2], [3], [4, 5, 6]], 1);
    const reader = stream.getReader({ mode: "byob" });
    const first = await fillWithin(reader, new Uint8Array(4), 1_000);
    expect([...first.bytes]).toEqual([1, 2, 3, 4]);
    expect(first.done).toBe(false);
    const rest = await fillWithin(reader, new Uint8Array(10), 1_000);
    expect([...rest.bytes]).toEqual([5, 6]);
    expect(rest.done).toBe(true);
  });

  it("keeps reading a slow body for as long as its bytes keep coming", async () => {
    // Six gaps of 40 ms: the body takes three times the idle time in all, and never stops for it.
    const { stream } = paced([[1], [2], [3], [4], [5], [6]], 40);
    const read = await fillWithin(stream.getReader({ mode: "byob" }), new Uint8Array(6), 80);
    expect([...read.bytes]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("ends a body that stops sending with upload_stalled (408) and cancels its stream", async () => {
    const { stream, cancelled } = paced([[1, 2]], 1, true);
    const reader = stream.getReader({ mode: "byob" });
    expect(await stalledCode(fillWithin(reader, new Uint8Array(8), 50))).toBe("upload_stalled 408");
    expect(cancelled()).toBeInstanceOf(PropiusError);
  });

  it("drains a refused body to its end, and gives up on one that stalls instead of waiting for ever", async () => {
    const whole = paced([[1], [2], [3]], 5);
    await drain(whole.stream, 1_000);
    expect(whole.cancelled()).toBeUndefined();
    const stalled = paced([[1]], 1, true);
    await drain(stalled.stream, 50);
    expect((stalled.cancelled() as PropiusError).code).toBe("upload_stalled");
  });

  it("takes its idle time from UPLOAD_IDLE_MS, and 30 s when that is unset or not a positive number", () => {
    expect(uploadIdleMs({ UPLOAD_IDLE_MS: "1500" })).toBe(1500);
    for (const value of [undefined, "", "0", "-5", "soon"]) expect(uploadIdleMs({ UPLOAD_IDLE_MS: value })).toBe(DEFAULT_UPLOAD_IDLE_MS);
  });
});
