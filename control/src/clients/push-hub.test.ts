import { describe, expect, it } from "vitest";
import { PUSH_MESSAGE_LIMIT, type PushMessage } from "@propius/shared";
import { PUSH_WAIT_RETRY_MS, PushHub, type PushSocket } from "./push-hub.js";
import { world } from "./scheduling-world.js";

/** A device's connection as the shard sees it, recording what it was sent. */
function socket(clientId: string): PushSocket & { sent: PushMessage[]; closed: number | null } {
  let waitingSince: number | null = null;
  const s = {
    clientId,
    sent: [] as PushMessage[],
    closed: null as number | null,
    get waitingSince() {
      return waitingSince;
    },
    setWaiting: (since: number | null) => void (waitingSince = since),
    send: (message: PushMessage) => void s.sent.push(JSON.parse(JSON.stringify(message)) as PushMessage),
    close: (code: number) => void (s.closed = code),
  };
  return s;
}

const checkIn = (id: number, attributes: Record<string, unknown> = {}) => JSON.stringify({ type: "checkin", id, attributes });
const last = (s: { sent: PushMessage[] }) => s.sent.at(-1)!;
const statusOf = (message: PushMessage) => (message.type === "reply" ? message.reply.status : `error:${message.error.code}`);

describe("PushHub", () => {
  it("answers a check-in on the socket as over HTTP, and tells a waiting device to stay connected and silent", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    const hub = new PushHub(w.manager);
    const [a, b] = [socket("c1"), socket("c2")];
    await hub.receive(a, checkIn(1), w.now());
    await hub.receive(b, checkIn(7), w.now());
    expect(last(a)).toMatchObject({ type: "reply", id: 1, reply: { status: "task", task: { jobId: "job_aaaaaaaa" } } });
    expect(a.waitingSince).toBeNull();
    expect(last(b)).toMatchObject({ type: "reply", id: 7, reply: { status: "wait", reason: "round_full", retryAfterMs: PUSH_WAIT_RETRY_MS } });
    expect(b.waitingSince).toBe(w.now());
    // The round is full until its devices report: the shard looks again when the job said to.
    expect(hub.recheckAt).toBeGreaterThan(w.now());
  });

  it("pushes a freed slot to the device that has waited longest, and no more devices than there are slots", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    const hub = new PushHub(w.manager);
    const [holder, first, second] = [socket("c1"), socket("c2"), socket("c3")];
    await hub.receive(holder, checkIn(0), w.now());
    w.advance(10);
    await hub.receive(first, checkIn(0), w.now());
    w.advance(10);
    await hub.receive(second, checkIn(0), w.now());
    const held = last(holder);
    if (held.type !== "reply" || held.reply.status !== "task") throw new Error("c1 holds no task");
    w.cores.get("job_aaaaaaaa")!.reportFailure({ ticket: held.reply.task.ticket, clientId: "c1", round: 1, failure: { code: "training_error", message: "out of memory" } }, w.now());

    const result = await hub.recheck([second, holder, first], w.now(), "job_aaaaaaaa");
    expect(result).toMatchObject({ waiting: 2, pushed: 1 });
    expect(last(first)).toMatchObject({ type: "reply", reply: { status: "task", task: { jobId: "job_aaaaaaaa", round: 1 } } });
    expect(first.sent.at(-1)).not.toHaveProperty("id");
    expect(first.waitingSince).toBeNull();
    expect(second.sent).toHaveLength(1);
    expect(second.waitingSince).not.toBeNull();
  });

  it("sends nothing on an announcement when no job has room", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    const hub = new PushHub(w.manager);
    const [holder, waiter] = [socket("c1"), socket("c2")];
    await hub.receive(holder, checkIn(0), w.now());
    await hub.receive(waiter, checkIn(0), w.now());
    const result = await hub.recheck([holder, waiter], w.now(), "job_aaaaaaaa");
    expect(result).toMatchObject({ waiting: 1, pushed: 0 });
    expect(waiter.sent).toHaveLength(1);
    expect(waiter.waitingSince).not.toBeNull();
  });

  it("leaves a device that has reported to its job's announcement: no recheck by time, one claim when it comes", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }]);
    const hub = new PushHub(w.manager);
    const [a, b] = [socket("c1"), socket("c2")];
    await hub.receive(a, checkIn(0), w.now());
    await hub.receive(b, checkIn(0), w.now());
    const task = last(a);
    if (task.type !== "reply") throw new Error("c1 got no reply");
    await w.report("c1", task.reply);
    w.advance(100);
    // Checking in again at once, as devices do after an upload: the round is still open, waiting for c2.
    await hub.receive(a, checkIn(1), w.now());
    expect(last(a)).toMatchObject({ type: "reply", id: 1, reply: { status: "wait", reason: "already_reported" } });
    expect(a.waitingSince).toBe(w.now());
    expect(hub.recheckAt).toBeNull();
    const claims = w.calls.claims.length;

    // Its job's announcement (the next round opened) is what sends the shard back to it.
    const result = await hub.recheck([a, b], w.now(), "job_aaaaaaaa");
    expect(result).toMatchObject({ waiting: 1 });
    expect(w.calls.claims.length).toBe(claims + 1);
  });

  it("still rechecks a reported device by time when another job refused it as full", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }, { id: "job_bbbbbbbb", demand: 1 }]);
    const hub = new PushHub(w.manager);
    const [a, b] = [socket("c1"), socket("c2")];
    await hub.receive(a, checkIn(0), w.now());
    await hub.receive(b, checkIn(0), w.now());
    const task = last(a);
    if (task.type !== "reply" || task.reply.status !== "task") throw new Error("c1 got no task");
    expect(task.reply.task.jobId).toBe("job_aaaaaaaa");
    await w.report("c1", task.reply);
    await hub.receive(a, checkIn(1), w.now());
    // The first job says c1 has reported, the second that its round is full (c2 holds its slot): look again when it said.
    expect(last(a)).toMatchObject({ type: "reply", id: 1, reply: { status: "wait" } });
    expect(hub.recheckAt).not.toBeNull();
    expect(hub.recheckAt!).toBe(w.manager.reopensAt(w.now()));
  });

  it("finds a timed recheck due only when a wait it knows of is up, or before it has rechecked at all", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 1 }]);
    const hub = new PushHub(w.manager);
    const [holder, waiter] = [socket("c1"), socket("c2")];
    await hub.receive(holder, checkIn(0), w.now());
    await hub.receive(waiter, checkIn(0), w.now());
    // A shard that has just started knows nothing of the waits told before it: always due.
    expect(hub.recheckDue(w.now())).toBe(true);
    await hub.recheck([holder, waiter], w.now());
    const at = hub.recheckAt!;
    expect(at).toBeGreaterThan(w.now());
    expect(hub.recheckDue(at - 1)).toBe(false);
    expect(hub.recheckDue(at)).toBe(true);

    // The holder's failure frees the slot and the job announces it: the waiter is pushed its task, and the alarm set for its wait finds nothing due.
    const held = holder.sent.at(-1)!;
    if (held.type !== "reply" || held.reply.status !== "task") throw new Error("c1 holds no task");
    w.cores.get("job_aaaaaaaa")!.reportFailure({ ticket: held.reply.task.ticket, clientId: "c1", round: 1, failure: { code: "training_error", message: "out of memory" } }, w.now());
    await hub.recheck([holder, waiter], w.now(), "job_aaaaaaaa");
    expect(statusOf(last(waiter))).toBe("task");
    expect(hub.recheckAt).toBeNull();
    expect(hub.recheckDue(at)).toBe(false);
  });

  it("answers generated hostile frames with an error (or closes an oversized one) and changes no binding", async () => {
    const w = world([{ id: "job_aaaaaaaa", demand: 2 }]);
    const hub = new PushHub(w.manager);
    let seed = 42;
    let answered = 0;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pieces = ['{"type":"checkin"', '"id":', "-1", "1e400", '"attributes":', "[]", "{}", '{"a":{"b":1}}', '"accept":"job_"', "null", ",", "}", "\u0000", '"__proto__"', "9007199254740993"];
    const frames: (string | ArrayBuffer)[] = [new ArrayBuffer(8), "x".repeat(PUSH_MESSAGE_LIMIT + 1), "", "{", JSON.stringify({ type: "checkin", id: 1 }), JSON.stringify({ type: "checkin", id: 1, attributes: { k: "v".repeat(200) } })];
    for (let i = 0; i < 300; i++) frames.push(Array.from({ length: 1 + Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join(""));
    for (const frame of frames) {
      const s = socket("c-hostile");
      await hub.receive(s, frame, w.now());
      if (s.closed !== null) {
        expect(s.closed, String(frame).slice(0, 40)).toBe(1009);
        continue;
      }
      expect(s.sent, String(frame).slice(0, 40)).toHaveLength(1);
      // A frame that happens to be a valid check-in is answered as one; all others with a coded error.
      if (last(s).type === "error") expect(statusOf(last(s))).toMatch(/^error:(invalid_message|invalid_json|validation_failed)$/);
      else answered += 1;
    }
    expect(answered).toBeLessThan(frames.length / 10);
    if (answered === 0) expect(w.registry.binding("c-hostile")).toBeNull();
    const honest = socket("c2");
    await hub.receive(honest, checkIn(3), w.now());
    expect(statusOf(last(honest))).toBe("task");
  });
});
