import { describe, expect, it } from "vitest";
import { BodyReadAhead } from "./body-read-ahead.js";
import type { StreamedBody } from "./shard-ports.js";

/** A request stream as the shard sees it, recording how it was read; `whole` answers when `open` is called. */
function streamed(declaredBytes: number | null) {
  const reads: string[] = [];
  let open: (bytes: Uint8Array) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const body: StreamedBody = {
    declaredBytes,
    whole: () => (reads.push("whole"), new Promise((resolve, reject) => ((open = resolve), (fail = reject)))),
    chunks: () => (reads.push("chunks"), (async function* () { yield new Uint8Array(1); })()),
  };
  return { body, reads, open: (bytes = new Uint8Array(1)) => open(bytes), fail: (error: Error) => fail(error) };
}

describe("BodyReadAhead", () => {
  it("reads bodies whole while their declared sizes fit the budget, and the rest chunk by chunk", async () => {
    const ahead = new BodyReadAhead(100);
    const a = streamed(60), b = streamed(40), c = streamed(1), unsized = streamed(null);
    const arriving = [ahead.arrive(a.body), ahead.arrive(b.body)];
    expect(ahead.heldBytes).toBe(100);
    const third = await ahead.arrive(c.body);
    await ahead.arrive(unsized.body);
    expect([a.reads, b.reads, c.reads, unsized.reads]).toEqual([["whole"], ["whole"], ["chunks"], ["chunks"]]);
    a.open();
    b.open();
    const [first] = await Promise.all(arriving);
    third.release();
    expect(ahead.heldBytes).toBe(100);
    first.release();
    first.release();
    expect(ahead.heldBytes).toBe(40);
  });

  it("gives the budget back when a body cannot be read, and passes plain chunks through", async () => {
    const ahead = new BodyReadAhead(100);
    const a = streamed(80);
    const arriving = ahead.arrive(a.body);
    a.fail(new Error("the client went away"));
    await expect(arriving).rejects.toThrow("the client went away");
    expect(ahead.heldBytes).toBe(0);
    const chunks = [new Uint8Array(3)];
    expect((await ahead.arrive(chunks)).chunks).toBe(chunks);
  });
});
