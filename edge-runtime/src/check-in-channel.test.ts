import { describe, expect, it } from "vitest";
import { CheckInChannel, type ChannelEvent } from "./check-in-channel.js";
import { DeviceClient } from "./protocol/device-client.js";
import type { WebSocketConnector, WebSocketLike } from "./protocol/push-session.js";

/** Sockets that open (or are refused) on the next tick, and answer every check-in frame with a task. */
function connector(opens: boolean, made: WebSocketLike[]): WebSocketConnector {
  return () => {
    const socket: WebSocketLike = {
      readyState: 0,
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send(data: string) {
        const { id } = JSON.parse(data) as { id: number };
        const task = { jobId: "job_aaaaaaaa", round: 1 };
        queueMicrotask(() => socket.onmessage?.({ data: JSON.stringify({ type: "reply", id, reply: { status: "task", task } }) }));
      },
      close() {
        (socket as { readyState: number }).readyState = 3;
      },
    };
    setTimeout(() => {
      if (!opens) return socket.onclose?.({ code: 1006, reason: "" });
      (socket as { readyState: number }).readyState = 1;
      socket.onopen?.({});
    });
    made.push(socket);
    return socket;
  };
}

const device = () => new DeviceClient({ baseUrl: "http://localhost:9", credentials: { clientId: "c1", token: "t1" }, fetch: () => Promise.reject(new Error("no HTTP in this test")) });

describe("CheckInChannel.connect", () => {
  it("opens the push connection before any check-in, once, and check-ins then go over it", async () => {
    const made: WebSocketLike[] = [];
    const events: ChannelEvent[] = [];
    const channel = new CheckInChannel(device(), connector(true, made), (e) => events.push(e));
    expect(channel.pushing).toBe(false);
    expect(await channel.connect()).toBe(true);
    expect(channel.pushing).toBe(true);
    expect(await channel.connect()).toBe(true);
    expect(made).toHaveLength(1);
    expect(events).toEqual([{ type: "connection", state: "open" }]);
    expect(await channel.checkIn({}, undefined)).toMatchObject({ status: "task", task: { round: 1 } });
    expect(made).toHaveLength(1);
    channel.close();
    expect(channel.pushing).toBe(false);
  });

  it("says so when the connection is refused, and does not try again at once", async () => {
    const made: WebSocketLike[] = [];
    const events: ChannelEvent[] = [];
    const channel = new CheckInChannel(device(), connector(false, made), (e) => events.push(e));
    expect(await channel.connect()).toBe(false);
    expect(events).toMatchObject([{ type: "connection", state: "closed" }]);
    expect(await channel.connect()).toBe(false);
    expect(made).toHaveLength(1);
  });

  it("has nothing to open without a connector", async () => {
    expect(await new CheckInChannel(device(), undefined, () => undefined).connect()).toBe(false);
  });
});

describe("CheckInChannel.checkIn on a push connection", () => {
  it("renews a token that is due over HTTP before it checks in on the socket", async () => {
    const renewals: string[] = [];
    const fetch = async (input: string, init: RequestInit = {}) => {
      renewals.push(`${new URL(input).pathname} ${new Headers(init.headers).get("authorization")}`);
      return Response.json({ clientId: "c1", token: "t2", expiresAt: Date.now() + 86_400_000, protocol: 1 }, { status: 201 });
    };
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "t1", expiresAt: Date.now() + 60_000, renewAfter: Date.now() + 30_000 } });
    const channel = new CheckInChannel(client, connector(true, []), () => undefined);
    expect(await channel.connect()).toBe(true);
    expect(renewals).toEqual([]);
    // Hours on the connection later, the token is due: the next check-in on the socket renews it first.
    client.credentials = { ...client.credentials!, renewAfter: Date.now() - 1 };
    expect(await channel.checkIn({}, undefined)).toMatchObject({ status: "task" });
    expect(renewals).toEqual(["/v1/clients/token Bearer t1"]);
    expect(client.credentials?.token).toBe("t2");
    // Not again while the new token is young.
    await channel.checkIn({}, undefined);
    expect(renewals).toHaveLength(1);
    channel.close();
  });
});
