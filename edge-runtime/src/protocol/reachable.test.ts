import { getEventListeners } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntilReachable } from "./reachable.js";

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  servers = [];
});

/** A loopback server answering /v1/health with `status`, listening on `port` (0: any). */
async function listen(status: number, port = 0): Promise<number> {
  const server = createServer((request, response) => {
    response.writeHead(request.url === "/v1/health" ? status : 404, { "content-type": "application/json" }).end("{}");
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const port = await listen(200);
  await new Promise((resolve) => servers.pop()!.close(resolve));
  return port;
}

describe("waitUntilReachable", () => {
  it("returns once a control plane that starts late answers", async () => {
    const port = await freePort();
    const started = Date.now();
    setTimeout(() => void listen(200, port), 600);
    const controller = new AbortController();
    await waitUntilReachable(`http://127.0.0.1:${port}`, { timeoutMs: 30_000, intervalMs: 100, signal: controller.signal });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("keeps waiting through error answers and names the last one when it gives up", async () => {
    const port = await listen(503);
    await expect(waitUntilReachable(`http://127.0.0.1:${port}`, { timeoutMs: 400, intervalMs: 100 })).rejects.toThrow(
      new RegExp(`control plane at http://127.0.0.1:${port} did not answer within 0 s \\(HTTP 503\\)`),
    );
  });

  it("stops at once when aborted", async () => {
    const port = await freePort();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stopped")), 200);
    await expect(waitUntilReachable(`http://127.0.0.1:${port}`, { timeoutMs: 60_000, signal: controller.signal })).rejects.toThrow("stopped");
  });
});
