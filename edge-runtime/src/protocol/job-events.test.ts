import { describe, expect, it } from "vitest";
import { EVENTS_PROTOCOL, type JobEvent } from "@propius/shared";
import { JobEventSubscription } from "./job-events.js";
import type { WebSocketLike } from "./push-session.js";

/** A WebSocket the test drives: opens on the next tick, records what is sent, closes on demand. */
class FakeSocket implements WebSocketLike {
  readyState = 0;
  sent: string[] = [];
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  constructor(readonly url: string, readonly protocols: string[], refuse: boolean) {
    setTimeout(() => {
      if (refuse) return this.onclose?.({ code: 1006, reason: "" });
      this.readyState = 1;
      this.onopen?.({});
    }, 0);
  }
  send(data: string) {
    this.sent.push(data);
    if (data === "ping") setTimeout(() => this.onmessage?.({ data: "pong" }), 0);
  }
  close() {
    this.readyState = 3;
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({ code: 1006, reason: "" });
  }
  deliver(event: Partial<JobEvent> & Pick<JobEvent, "type" | "seq">) {
    this.onmessage?.({ data: JSON.stringify({ at: 1, jobId: "job_1", ...event }) });
  }
}

const STATUS = { id: "job_1", state: "running", currentRound: 1, totalRounds: 3, rounds: [] };
const bound = (seq: number) => ({ type: "device_bound" as const, seq, round: 1, attempt: 0, bound: seq, demand: 9 });

function setup(tokenAnswers: (() => Response)[] = [], refusals = 0) {
  const sockets: FakeSocket[] = [];
  let tokens = 0;
  const fetch = async (url: string, init?: RequestInit) => {
    expect(url).toBe("http://cp/v1/jobs/job_1/events/token");
    expect(new Headers(init?.headers).get("authorization")).toBe("Bearer pk_key");
    const answer = tokenAnswers.shift();
    if (answer) return answer();
    return Response.json({ token: `es.token${++tokens}`, expiresAt: 0, protocol: EVENTS_PROTOCOL }, { status: 201 });
  };
  const connector = (url: string, protocols: string[]) => {
    const socket = new FakeSocket(url, protocols, sockets.length > 0 && refusals-- > 0);
    sockets.push(socket);
    return socket;
  };
  const open = (since?: number) => JobEventSubscription.open({ baseUrl: "http://cp", apiKey: "pk_key", jobId: "job_1", connector, fetch, since, reconnectMs: 1, attempts: 1 });
  return { sockets, open };
}

describe("an owner's job event subscription", () => {
  it("connects with a fresh token as a subprotocol (never the API key), and delivers events in order", async () => {
    const { sockets, open } = setup();
    const sub = await open();
    expect(sockets[0].url).toBe("ws://cp/v1/jobs/job_1/events");
    expect(sockets[0].protocols).toEqual([EVENTS_PROTOCOL, "bearer.es.token1"]);
    expect(sockets[0].url + sockets[0].protocols.join()).not.toContain("pk_key");
    sockets[0].deliver({ type: "snapshot", seq: 4, status: STATUS } as never);
    sockets[0].deliver(bound(5));
    expect(await sub.next()).toMatchObject({ type: "snapshot", seq: 4 });
    expect(await sub.next()).toMatchObject({ type: "device_bound", seq: 5 });
    expect(sub.lastSeq).toBe(5);
    expect(await sub.ping()).toBeGreaterThanOrEqual(0);
    sub.close();
  });

  it("reconnects with a new token from the last sequence number seen, and drops repeats", async () => {
    const { sockets, open } = setup([], 1);
    const seen: JobEvent[] = [];
    const sub = await open();
    sockets[0].deliver(bound(1));
    sockets[0].deliver(bound(2));
    await sub.next();
    await sub.next();
    sockets[0].drop();
    // The first try is refused; the next one opens.
    for (let i = 0; i < 100 && sub.reconnects === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sub.reconnects).toBe(1);
    const last = sockets.at(-1)!;
    expect(sockets).toHaveLength(3);
    expect(last.url).toBe("ws://cp/v1/jobs/job_1/events?since=2");
    expect(last.protocols[1]).toBe("bearer.es.token3");
    last.deliver(bound(2));
    last.deliver(bound(3));
    seen.push((await sub.next())!);
    expect(seen.map((e) => e.seq)).toEqual([3]);
    sub.close();
  });

  it("resumes from a sequence number given at the start", async () => {
    const { sockets, open } = setup();
    const sub = await open(41);
    expect(sockets[0].url).toBe("ws://cp/v1/jobs/job_1/events?since=41");
    sub.close();
  });

  it("ends with the API's error when a new token is refused (the job is gone), and says so to a waiting reader", async () => {
    const tokenAnswers: (() => Response)[] = [];
    const { sockets, open } = setup(tokenAnswers);
    const sub = await open();
    const pending = sub.next(5_000);
    tokenAnswers.push(() => Response.json({ error: { code: "job_not_found", message: "no such job" } }, { status: 404 }));
    sockets[0].drop();
    await expect(pending).rejects.toMatchObject({ code: "job_not_found" });
    expect(sub.error).toMatchObject({ code: "job_not_found" });
    expect(sockets).toHaveLength(1);
  });

  it("fails to open when the first token is refused", async () => {
    const { open } = setup([() => Response.json({ error: { code: "unauthorized", message: "unknown API key" } }, { status: 401 })]);
    await expect(open()).rejects.toMatchObject({ code: "unauthorized" });
  });
});
