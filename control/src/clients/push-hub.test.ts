import { describe, expect, it } from "vitest";
import { PUSH_MESSAGE_LIMIT, type PushMessage } from "@propius/shared";
import { OFFER_WAVE_MS, PUSH_WAIT_RETRY_MS, PushHub, type OfferedJobs, type PushSocket } from "./push-hub.js";
import { world } from "./scheduling-world.js";

/** A device's connection as the shard sees it, recording what it was sent. */
function socket(clientId: string): PushSocket & { sent: PushMessage[]; closed: number | null } {
  let waitingSince: number | null = null;
  let offered: OfferedJobs | null = null;
  const s = {
    clientId,
    get offered() {
      return offered;
    },
    setOffered: (value: OfferedJobs | null) => void (offered = value),
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

  it("does not push news of a job to a device that left its offer open, but does push another job's, and forgets once the device checks in", async () => {
    const w = world([
      { id: "job_open0001", demand: 1 },
      { id: "job_private1", demand: 2, privateConstraints: { dataset_size: { min: 100 } } },
    ]);
    const hub = new PushHub(w.manager);
    const [holder, small, late] = [socket("c1"), socket("c2"), socket("c3")];
    // c1 takes the open job's one slot; c2 is then offered the private job, and takes nothing.
    await hub.receive(holder, checkIn(0), w.now());
    await hub.receive(small, checkIn(0), w.now());
    const held = last(holder);
    const offer = last(small);
    if (held.type !== "reply" || held.reply.status !== "task") throw new Error("c1 holds no task");
    if (offer.type !== "reply" || offer.reply.status !== "offer") throw new Error("c2 was not offered the private job");
    expect(offer.reply.offers.map((o) => o.jobId)).toEqual(["job_private1"]);
    expect(small.offered).toEqual({ jobs: ["job_private1"], until: w.now() + offer.reply.retryAfterMs });

    // News of the job it left open is not pushed to it again within the offer's retry time ...
    expect(await hub.recheck([holder, small], w.now(), "job_private1")).toMatchObject({ waiting: 0, pushed: 0 });
    expect(small.sent).toHaveLength(1);
    // ... news of a job it was not offered is: the open job's slot frees.
    w.cores.get("job_open0001")!.reportFailure({ ticket: held.reply.task.ticket, clientId: "c1", round: 1, failure: { code: "training_error", message: "out of memory" } }, w.now());
    expect(await hub.recheck([holder, small], w.now(), "job_open0001")).toMatchObject({ waiting: 1, pushed: 1 });
    expect(last(small)).toMatchObject({ type: "reply", reply: { status: "task", task: { jobId: "job_open0001" } } });
    expect(small.offered).toBeNull();

    // Once the offer's retry time is up, the device is rechecked like any waiting device.
    await hub.receive(late, checkIn(0), w.now());
    expect(statusOf(last(late))).toBe("offer");
    expect((await hub.recheck([late], w.now(), "job_private1")).waiting).toBe(0);
    w.advance(late.offered!.until - w.now() + 1);
    expect(await hub.recheck([late], w.now(), "job_private1")).toMatchObject({ waiting: 1, pushed: 1 });
    // A check-in from the device clears what it was offered; a wait leaves nothing offered.
    await hub.receive(late, JSON.stringify({ type: "checkin", id: 5, attributes: {}, accept: "job_open0001" }), w.now());
    expect(last(late)).toMatchObject({ id: 5, reply: { status: "wait" } });
    expect(late.offered).toBeNull();
  });

  it("offers a job with private constraints to at most as many waiting devices as it has slots per wave", async () => {
    const w = world([{ id: "job_private1", demand: 2, privateConstraints: { dataset_size: { min: 100 } } }]);
    const hub = new PushHub(w.manager);
    const accept = (id: number) => JSON.stringify({ type: "checkin", id, attributes: {}, accept: "job_private1" });
    const holders = [socket("h1"), socket("h2")];
    for (const h of holders) await hub.receive(h, accept(0), w.now());
    // Five more devices try for the full round and wait, with nothing offered.
    const waiters = ["w1", "w2", "w3", "w4", "w5"].map(socket);
    for (const s of waiters) {
      w.advance(1);
      await hub.receive(s, accept(1), w.now());
      expect(statusOf(last(s))).toBe("wait");
    }
    for (const h of holders) {
      const held = last(h);
      if (held.type !== "reply" || held.reply.status !== "task") throw new Error(`${h.clientId} holds no task`);
      w.cores.get("job_private1")!.reportFailure({ ticket: held.reply.task.ticket, clientId: h.clientId, round: 1, failure: { code: "training_error", message: "out of memory" } }, w.now());
    }
    const offered = () => waiters.filter((s) => s.offered !== null).map((s) => s.clientId);
    // Two slots free: the two devices that waited longest are offered the job, the rest wait for the next wave.
    expect(await hub.recheck([...holders, ...waiters], w.now(), "job_private1")).toMatchObject({ pushed: 2 });
    expect(offered()).toEqual(["w1", "w2"]);
    expect(hub.recheckAt).toBe(w.now() + OFFER_WAVE_MS);
    // Nobody took them: the next wave goes to the next two, not to those who were offered it.
    w.advance(OFFER_WAVE_MS);
    expect(await hub.recheck([...holders, ...waiters], w.now())).toMatchObject({ waiting: 3, pushed: 2 });
    expect(offered()).toEqual(["w1", "w2", "w3", "w4"]);
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
