import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Http, retryAfterMs } from "./http.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A real HTTP server on loopback whose n-th request is answered by `handler`; it records when each came. */
async function serve(handler: (response: ServerResponse, call: number) => void) {
  const at: number[] = [];
  const server = createServer((_request, response) => {
    at.push(Date.now());
    handler(response, at.length);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => new Promise((resolve) => server.close(() => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, at };
}
const limited = (response: ServerResponse, retryAfter: string) =>
  response.writeHead(429, { "content-type": "application/json", "retry-after": retryAfter }).end(JSON.stringify({ error: { code: "rate_limited", message: "slow down" } }));

describe("a 429 with Retry-After", () => {
  it("is waited out for as long as it says, then the request is made again (devices, tabs and the SDK share this)", async () => {
    const server = await serve((response, call) => (call === 1 ? limited(response, "1") : response.writeHead(200, { "content-type": "application/json" }).end("{}")));
    const http = new Http({ baseUrl: server.url, backoffMs: 1 });
    expect(await http.json("/v1/checkin")).toEqual({});
    expect(server.at).toHaveLength(2);
    const waited = server.at[1] - server.at[0];
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(3000);
  });

  it("asking for longer than the client waits is thrown as rate_limited at once", async () => {
    const server = await serve((response) => limited(response, "3600"));
    const http = new Http({ baseUrl: server.url, backoffMs: 1 });
    await expect(http.json("/v1/checkin")).rejects.toMatchObject({ code: "rate_limited", status: 429 });
    expect(server.at).toHaveLength(1);
  });

  it("on the last attempt is thrown as rate_limited", async () => {
    const server = await serve((response) => limited(response, "0"));
    const http = new Http({ baseUrl: server.url, attempts: 3, backoffMs: 1 });
    await expect(http.json("/v1/checkin")).rejects.toMatchObject({ code: "rate_limited" });
    expect(server.at).toHaveLength(3);
  });

  it("is read as seconds or as an HTTP date", () => {
    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs("soon")).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});
