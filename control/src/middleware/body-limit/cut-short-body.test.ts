import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { onError } from "../../http/on-error.js";
import { jsonBody } from "../validate/index.js";
import { bodyLimit } from "./index.js";

/** A request whose body fails after its first bytes, as one whose client went away mid-body. */
function cutShortRequest(declared: boolean): Request {
  let sent = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("Network connection lost."));
      sent = true;
      controller.enqueue(new TextEncoder().encode('{"attributes":{'));
    },
  });
  const headers: Record<string, string> = { "content-type": "application/json", ...(declared ? { "content-length": "1000" } : {}) };
  return new Request("http://control/x", { method: "POST", headers, body, duplex: "half" } as RequestInit);
}

/**
 * Acceptance: a JSON body whose client stops sending (under `wrangler dev`, the read fails with
 * "Network connection lost") is answered 400 bad_request, not 500 internal with the error logged.
 */
describe("a JSON body cut short", () => {
  const app = new Hono().post("/x", bodyLimit(1 << 20), jsonBody(), (c) => c.text("taken")).onError(onError);
  for (const declared of [true, false]) {
    it(`${declared ? "with" : "without"} a Content-Length is 400 bad_request`, async () => {
      const response = await app.request(cutShortRequest(declared));
      expect({ status: response.status, body: await response.json() }).toMatchObject({ status: 400, body: { error: { code: "bad_request" } } });
    });
  }
});
