import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { PropiusError } from "@propius/shared";
import { getEventListeners } from "node:events";
import { Http, sleep } from "./http.js";

type Handler = (request: IncomingMessage, response: ServerResponse, call: number) => void;

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** A real HTTP server on loopback whose n-th request is answered by `handler`. */
async function serve(handler: Handler): Promise<{ url: string; calls: () => number }> {
  let calls = 0;
  const open = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    open.add(response);
    response.on("close", () => open.delete(response));
    handler(request, response, ++calls);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  close = () => new Promise((resolve) => (open.forEach((r) => r.destroy()), server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls: () => calls };
}

const json = (response: ServerResponse, status: number, body: unknown) =>
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

describe("Http", () => {
  it("abandons an attempt that gets no answer and retries it", async () => {
    const server = await serve((_request, response, call) => {
      if (call > 1) json(response, 200, { ok: true }); // the first request is left hanging
    });
    const http = new Http({ baseUrl: server.url, attemptTimeoutMs: 200, backoffMs: 1 });
    expect(await http.json("/v1/health")).toEqual({ ok: true });
    expect(server.calls()).toBe(2);
  });

  it("retries a 5xx and then returns the answer", async () => {
    const server = await serve((_request, response, call) => {
      if (call === 1) json(response, 503, { error: { code: "internal", message: "busy" } });
      else json(response, 200, { ok: call });
    });
    expect(await new Http({ baseUrl: server.url, backoffMs: 1 }).json("/x")).toEqual({ ok: 2 });
  });

  it("does not retry a 4xx and throws it with the server's stable code", async () => {
    const server = await serve((_request, response) => json(response, 409, { error: { code: "ticket_used", message: "used" } }));
    const error = await new Http({ baseUrl: server.url, backoffMs: 1 }).json("/x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PropiusError);
    expect(error).toMatchObject({ code: "ticket_used", message: "used" });
    expect(server.calls()).toBe(1);
  });

  it("gives up after its attempts with the last error", async () => {
    const server = await serve((_request, response) => json(response, 500, { error: { code: "internal", message: "down" } }));
    const error = await new Http({ baseUrl: server.url, attempts: 3, backoffMs: 1 }).json("/x").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "internal", message: "down" });
    expect(server.calls()).toBe(3);
  });

  it("stops at once when its caller aborts, without retrying", async () => {
    const server = await serve(() => undefined);
    const controller = new AbortController();
    const pending = new Http({ baseUrl: server.url, attemptTimeoutMs: 60_000 }).json("/x", {}, controller.signal);
    setTimeout(() => controller.abort(new Error("stopped")), 50);
    await expect(pending).rejects.toThrow("stopped");
    expect(server.calls()).toBe(1);
  });
});

describe("sleep", () => {
  it("leaves no abort listener behind on its signal", async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });
});

describe("a control plane that cannot be reached", () => {
  it("is named, with the reason, rather than 'fetch failed'", async () => {
    // A server that has stopped: its port refuses connections.
    const { url } = await serve(() => {});
    await close?.();
    close = undefined;
    const http = new Http({ baseUrl: url, attempts: 2, backoffMs: 1 });
    await expect(http.json("/v1/health")).rejects.toThrow(`could not reach the control plane at ${url}/v1/health (connection refused: is the control plane running at that address?; 2 attempts)`);
  });
});
