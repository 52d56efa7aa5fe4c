import { describe, expect, it } from "vitest";
import { jobEventSchema, type JobEvent, type JobStatus } from "@propius/shared";
import { EventFanOut, memoryEventLog, type EventSocket } from "./event-fan-out.js";

const STATUS = { id: "job_x", state: "running", currentRound: 1, totalRounds: 2, rounds: [] } as unknown as JobStatus;

function socket() {
  const frames: JobEvent[] = [];
  const s: EventSocket & { frames: JobEvent[] } = { frames, send: (text) => frames.push(jobEventSchema.parse(JSON.parse(text)) as JobEvent) };
  return s;
}

function setup(limit = 8) {
  const sockets: EventSocket[] = [];
  const log = memoryEventLog(limit);
  const fanOut = new EventFanOut(log, () => sockets);
  const attach = (s: EventSocket, since: number | null) => (sockets.push(s), fanOut.attach(s, { jobId: "job_x", since, now: 5, status: () => STATUS }));
  const drop = (s: EventSocket) => sockets.splice(sockets.indexOf(s), 1);
  return { fanOut, log, attach, drop, sockets };
}

const bound = (n: number) => ({ type: "device_bound" as const, round: 1, attempt: 0, bound: n, demand: 4 });

describe("a job's event fan-out", () => {
  it("records nothing while nobody listens, and starts a subscriber with the job's state", () => {
    const { fanOut, log, attach } = setup();
    expect(fanOut.publish("job_x", [bound(1)], 1)).toEqual([]);
    expect(log.oldest()).toBeNull();
    const a = socket();
    expect(attach(a, null)).toBe("snapshot");
    expect(a.frames).toEqual([{ type: "snapshot", seq: 1, at: 5, jobId: "job_x", status: STATUS }]);
  });

  it("numbers events one by one, stamps them with the job's time and sends each to every subscriber", () => {
    const { fanOut, attach } = setup();
    const [a, b] = [socket(), socket()];
    attach(a, null);
    attach(b, null);
    fanOut.publish("job_x", [bound(1), bound(2)], 10);
    fanOut.publish("job_x", [bound(3)], 11);
    for (const s of [a, b]) expect(s.frames.slice(1).map((e) => [e.seq, e.at])).toEqual([[2, 10], [3, 10], [4, 11]]);
  });

  it("replays what a returning subscriber missed while another one listened", () => {
    const { fanOut, attach, drop } = setup();
    const [watcher, first] = [socket(), socket()];
    attach(watcher, null);
    attach(first, null);
    const seen = first.frames[0].seq;
    drop(first);
    fanOut.publish("job_x", [bound(1), bound(2)], 10);
    const back = socket();
    expect(attach(back, seen)).toBe("replayed");
    expect(back.frames.map((e) => e.seq)).toEqual([seen + 1, seen + 2]);
    // Up to date: nothing to replay, and no snapshot either.
    const current = socket();
    expect(attach(current, seen + 2)).toBe("replayed");
    expect(current.frames).toEqual([]);
  });

  it("sends the state instead when the job changed with nobody listening", () => {
    const { fanOut, attach, drop } = setup();
    const a = socket();
    attach(a, null);
    fanOut.publish("job_x", [bound(1)], 10);
    const seen = a.frames.at(-1)!.seq;
    drop(a);
    fanOut.publish("job_x", [bound(2)], 11);
    const back = socket();
    expect(attach(back, seen)).toBe("snapshot");
    // The unrecorded change is a step of its own: the snapshot's number is past the last event's.
    expect(back.frames[0]).toMatchObject({ type: "snapshot", seq: seen + 1 });
  });

  it("sends the state when the bounded log no longer holds what was missed, or the number is unknown", () => {
    const { fanOut, attach, drop } = setup(3);
    const [watcher, first] = [socket(), socket()];
    attach(watcher, null);
    attach(first, null);
    const seen = first.frames[0].seq;
    drop(first);
    fanOut.publish("job_x", [bound(1), bound(2), bound(3), bound(4)], 10);
    expect(attach(socket(), seen)).toBe("snapshot");
    expect(attach(socket(), seen + 3)).toBe("replayed");
    expect(attach(socket(), seen + 99)).toBe("snapshot");
  });

  it("assumes a job that starts with nobody listening may have changed, and one that wakes with subscribers did not", () => {
    const log = memoryEventLog();
    log.setState({ lastSeq: 7, recordedFrom: 3 });
    const empty: EventSocket[] = [];
    const cold = new EventFanOut(log, () => empty);
    const a = socket();
    empty.push(a);
    expect(cold.attach(a, { jobId: "job_x", since: 7, now: 1, status: () => STATUS })).toBe("snapshot");
    expect(a.frames[0]).toMatchObject({ type: "snapshot", seq: 8 });

    const woken = new EventFanOut(log, () => [a]);
    const b = socket();
    expect(woken.attach(b, { jobId: "job_x", since: 8, now: 1, status: () => STATUS })).toBe("replayed");
  });

  it("keeps sending to the others when one subscriber's connection fails", () => {
    const { fanOut, attach } = setup();
    const broken: EventSocket = { send: () => { throw new Error("closed"); } };
    const ok = socket();
    attach(broken, null);
    attach(ok, null);
    fanOut.publish("job_x", [bound(1)], 10);
    expect(ok.frames.at(-1)).toMatchObject({ type: "device_bound", bound: 1 });
  });
});
