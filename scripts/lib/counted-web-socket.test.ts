import { describe, expect, it } from "vitest";
import { PUSH_PING, PUSH_PONG } from "@propius/shared";
import { PushSession, type WebSocketLike } from "@propius/edge-runtime";
import { countedConnector, noFrames } from "./counted-web-socket.js";

/** A socket that opens at once and answers every check-in frame with a reply to its id. */
function fakeSocket(): WebSocketLike & { push(data: string): void } {
  const socket = {
    readyState: 0,
    onopen: null as WebSocketLike["onopen"],
    onmessage: null as WebSocketLike["onmessage"],
    onclose: null as WebSocketLike["onclose"],
    onerror: null as WebSocketLike["onerror"],
    send(data: string) {
      if (data === PUSH_PING) return queueMicrotask(() => socket.onmessage?.({ data: PUSH_PONG }));
      const { id } = JSON.parse(data) as { id: number };
      queueMicrotask(() => socket.onmessage?.({ data: JSON.stringify({ type: "reply", id, reply: { status: "wait", retryAfterMs: 1_000, reason: "round_full" } }) }));
    },
    close() {
      socket.readyState = 3;
      socket.onclose?.({ code: 1000, reason: "" });
    },
    push(data: string) {
      socket.onmessage?.({ data });
    },
  };
  setTimeout(() => ((socket.readyState = 1), socket.onopen?.({})));
  return socket;
}

describe("countedConnector", () => {
  it("counts a push session's frames each way, keep-alives apart, and passes them through", async () => {
    const frames = noFrames();
    let raw: ReturnType<typeof fakeSocket> | undefined;
    const session = await PushSession.open(countedConnector(() => (raw = fakeSocket()), frames), "http://localhost", "token");
    expect(session.open).toBe(true);
    expect(await session.checkIn({})).toMatchObject({ status: "wait", reason: "round_full" });
    expect(await session.checkIn({})).toMatchObject({ status: "wait" });
    raw!.push(JSON.stringify({ type: "reply", reply: { status: "wait", retryAfterMs: 5, reason: "pushed" } }));
    expect(await session.nextPush(100)).toMatchObject({ reason: "pushed" });
    raw!.send(PUSH_PING); // the socket itself, as the session's keep-alive timer would
    await new Promise((resolve) => setTimeout(resolve));
    expect(frames).toEqual({ sent: 2, received: 3, pings: 0, pongs: 1 });
    session.close();
    expect(session.open).toBe(false);
  });

  it("counts keep-alive pings sent through it apart from check-ins", () => {
    const frames = noFrames();
    const socket = countedConnector(() => fakeSocket(), frames)("ws://localhost", []);
    socket.send(PUSH_PING);
    socket.send(JSON.stringify({ type: "checkin", id: 0, attributes: {} }));
    expect(frames).toMatchObject({ sent: 1, pings: 1 });
  });
});
