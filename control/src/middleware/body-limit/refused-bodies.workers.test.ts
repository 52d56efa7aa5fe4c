import { describe, expect, it } from "vitest";
import { api, expectError, registerClient } from "../../../test/fixtures.js";
import { JSON_BODY_LIMIT } from "./index.js";

const CHUNK = 64 << 10;

/**
 * A body of `bytes` spaces written in 64 KiB chunks, with its Content-Length (`declared`) or
 * streamed without one; `written()` is how much of it the Worker had taken when asked.
 */
function sentBody(bytes: number, declared: boolean) {
  const { readable, writable } = declared ? new FixedLengthStream(bytes) : new IdentityTransformStream();
  const writer = writable.getWriter();
  let written = 0;
  const writing = (async () => {
    for (let left = bytes; left > 0; left -= CHUNK) {
      await writer.write(new Uint8Array(Math.min(CHUNK, left)).fill(0x20));
      written += Math.min(CHUNK, left);
    }
    await writer.close();
  })().catch(() => undefined);
  return { body: readable, written: () => written, writing };
}

/**
 * Acceptance: a body refused unread is received to its end before the answer goes out. Under
 * `wrangler dev` an answer sent while the client is still sending resets the connection, and the
 * requests beside it on that connection fail with 503 (scripts/check-oversized.ts measures it).
 */
describe("a refused body", () => {
  for (const declared of [true, false]) {
    it(`over the JSON limit ${declared ? "with its Content-Length" : "streamed without a length"} is received to its end before the 413`, async () => {
      const bytes = JSON_BODY_LIMIT + 8 * CHUNK;
      const sent = sentBody(bytes, declared);
      await expectError(api("/v1/clients", { type: "application/json", body: sent.body }), 413, "payload_too_large");
      expect(sent.written()).toBe(bytes);
    });
  }

  it("sent to a route that refuses the request before reading (no token) is received to its end", async () => {
    const sent = sentBody(8 * CHUNK, true);
    await expectError(api("/v1/checkin", { type: "application/json", body: sent.body }), 401, "unauthorized");
    expect(sent.written()).toBe(8 * CHUNK);
  });

  it("sent to a route that takes none, or to no route, is received to its end", async () => {
    const { token } = await registerClient();
    const sent = sentBody(8 * CHUNK, true);
    await expectError(api("/v1/no-such-route", { token, type: "application/json", body: sent.body }), 404, "not_found");
    expect(sent.written()).toBe(8 * CHUNK);
  });
});

