import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { openInspector } from "./cpu-profile.js";

/** An inspector endpoint that lists one target and answers only the methods in `answers`. */
async function fakeInspector(answers: Record<string, unknown>) {
  const server = createServer();
  const sockets = new WebSocketServer({ server });
  sockets.on("connection", (ws) =>
    ws.on("message", (data) => {
      const { id, method } = JSON.parse(String(data)) as { id: number; method: string };
      if (method in answers) ws.send(JSON.stringify({ id, result: answers[method] }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  server.on("request", (_req, res) => res.end(JSON.stringify([{ webSocketDebuggerUrl: `ws://127.0.0.1:${port}/target` }])));
  return { port, close: () => new Promise<void>((resolve) => (sockets.close(), server.close(() => resolve()))) };
}

let closing: (() => Promise<void>) | null = null;
afterEach(async () => {
  await closing?.();
  closing = null;
});

describe("an inspector session", () => {
  it("resolves a call with the inspector's answer", async () => {
    const inspector = await fakeInspector({ "Runtime.getHeapUsage": { usedSize: 42 } });
    closing = inspector.close;
    const session = await openInspector(inspector.port);
    await expect(session.send("Runtime.getHeapUsage")).resolves.toEqual({ usedSize: 42 });
    session.close();
  });

  it("rejects a call the inspector leaves unanswered once its timeout passes, and goes on answering the next", async () => {
    const inspector = await fakeInspector({ "Runtime.getHeapUsage": { usedSize: 7 } });
    closing = inspector.close;
    const session = await openInspector(inspector.port);
    const started = performance.now();
    await expect(session.send("HeapProfiler.collectGarbage", {}, 200)).rejects.toThrow(/unanswered for 0.2 s/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await expect(session.send("Runtime.getHeapUsage")).resolves.toEqual({ usedSize: 7 });
    session.close();
  });
});
