import { describe, expect, it } from "vitest";
import { countedBody } from "./counted-body.js";

/** A client's body of `chunks` pieces of `size` bytes, counting the pieces the server took. */
function clientBody(chunks: number, size: number) {
  const sent = { pieces: 0, ended: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent.pieces === chunks) return void ((sent.ended = true), controller.close());
      sent.pieces += 1;
      controller.enqueue(new Uint8Array(size).fill(sent.pieces));
    },
  });
  return { stream, sent };
}

const readAll = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());

describe("a streamed body, counted", () => {
  it("hands the body on as it comes, and has nothing left to receive once it was read", async () => {
    const client = clientBody(4, 100);
    const counted = countedBody(client.stream, 1_000, 1_000);
    expect((await readAll(counted.stream)).length).toBe(400);
    await counted.rest();
    expect([client.sent.ended, counted.failure()]).toEqual([true, null]);
  });

  it("receives a body that no one read to its end before the answer goes out (the request was refused first)", async () => {
    const client = clientBody(50, 1_000);
    const counted = countedBody(client.stream, 1_000_000, 1_000);
    await counted.rest();
    expect(client.sent).toEqual({ pieces: 50, ended: true });
    expect(counted.failure()).toBeNull();
  });

  it("ends the body for the reader at the limit, and still receives and drops the rest", async () => {
    const client = clientBody(20, 1_000);
    const counted = countedBody(client.stream, 5_500, 1_000);
    expect((await readAll(counted.stream)).length).toBe(5_000);
    expect(counted.failure()?.code).toBe("payload_too_large");
    await counted.rest();
    expect(client.sent).toEqual({ pieces: 20, ended: true });
  });

  it("receives the rest of a body its reader stopped reading part way", async () => {
    const client = clientBody(30, 1_000);
    const counted = countedBody(client.stream, 1_000_000, 1_000);
    const reader = counted.stream.getReader();
    await reader.read();
    reader.releaseLock();
    await counted.rest();
    expect(client.sent).toEqual({ pieces: 30, ended: true });
  });
});
