import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PropiusError, type Task } from "@propius/shared";
import type { LoopEvent } from "@propius/edge-runtime";
import { eventLogLine, openEventLog, parseEventLog } from "./event-log.js";

const task = (round: number, extra: Partial<Task> = {}) =>
  ({ jobId: "job_1", round, attempt: 0, ticket: "tk.secret.sig", modelHash: "m", kind: undefined, ...extra }) as unknown as Task;

describe("eventLogLine", () => {
  it("names the job, round, attempt and kind of a task event, and keeps its figures but not the task", () => {
    const event: LoopEvent = { type: "uploaded", task: task(3, { attempt: 1 }), bytes: 400, reported: 5, demand: 8 };
    const line = eventLogLine("cl_a", event, 1234);
    expect(line).toEqual({ at: 1234, device: "cl_a", type: "uploaded", job: "job_1", round: 3, attempt: 1, kind: "train", bytes: 400, reported: 5, demand: 8 });
    expect(JSON.stringify(line)).not.toContain("tk.secret");
  });

  it("tells evaluations from training, and leaves the attempt out when the server does not name it", () => {
    const event: LoopEvent = { type: "task", task: task(2, { kind: "evaluate", attempt: undefined }) };
    expect(eventLogLine("cl_a", event, 1)).toEqual({ at: 1, device: "cl_a", type: "task", job: "job_1", round: 2, kind: "evaluate" });
  });

  it("gives events without a task only the device, time and figures", () => {
    expect(eventLogLine("cl_b", { type: "wait", retryAfterMs: 2000, reason: "already_reported", via: "poll" }, 5)).toEqual({ at: 5, device: "cl_b", type: "wait", retryAfterMs: 2000, reason: "already_reported", via: "poll" });
    expect(eventLogLine("cl_b", { type: "stopped", reason: "aborted", tasks: 4 }, 6)).toEqual({ at: 6, device: "cl_b", type: "stopped", reason: "aborted", tasks: 4 });
  });
});

describe("openEventLog", () => {
  let dir: string;
  beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), "event-log-"))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("appends one line per event, in order, from several devices, stamped by its clock", async () => {
    const path = join(dir, "events.jsonl");
    await writeFile(path, `${JSON.stringify({ at: 1, device: "earlier", type: "stopped" })}\n`);
    let now = 100;
    const log = openEventLog(path, () => (now += 10));
    log.write("cl_a", { type: "task", task: task(1) });
    log.write("cl_b", { type: "downloaded", task: task(1), bytes: 0 });
    log.close();
    log.write("cl_a", { type: "stopped", reason: "aborted", tasks: 0 });
    const lines = parseEventLog(await readFile(path, "utf8"));
    expect(lines.map((l) => [l.device, l.type, l.at])).toEqual([["earlier", "stopped", 1], ["cl_a", "task", 110], ["cl_b", "downloaded", 120]]);
  });
});

describe("parseEventLog", () => {
  it("leaves out a last line cut short, but refuses a broken line before the end", () => {
    const whole = `${JSON.stringify({ at: 1, device: "a", type: "task" })}\n`;
    expect(parseEventLog(`${whole}{"at":2,"dev`)).toHaveLength(1);
    const broken = () => parseEventLog(`{"at":2,"dev\n${whole}`, "events-0.jsonl");
    expect(broken).toThrow(PropiusError);
    expect(broken).toThrow(/events-0.jsonl, line 1/);
  });
});
