import { describe, expect, it } from "vitest";
import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";
import { REFUSED_FRAME, TRIVIAL, transportFigures, type ContributionResult } from "./contribution-figures.js";
import { contributionReport } from "./contribution-report.js";

const counters = (claims: number, statements: number): CountersTotal => ({
  objects: [],
  calls: { "JobObject.claim": claims },
  writes: { JobObject: { statements, rows: statements * 2 } },
  totals: { calls: claims, statements, rows: statements * 2 },
});
const zero = { worker: 0, proxy: 0 };

/** 2 devices x 5 rounds = 10 contributions of 40 ms each in the Worker's process and 10 in the proxy. */
function result(transport: "http" | "push", requests: number, frames: number): ContributionResult {
  return {
    transport, devices: 2, rounds: 5, seconds: 4,
    phases: { between: zero, checkIn: { worker: 100, proxy: 50 }, download: zero, upload: { worker: 300, proxy: 50 }, close: zero },
    requests: { checkIns: transport === "http" ? requests / 3 : 0, downloads: requests / (transport === "http" ? 3 : 2), uploads: requests / (transport === "http" ? 3 : 2), other: 0 },
    frames: { sent: frames / 2, received: frames / 2, pings: 4, pongs: 4 },
    bindings: { answered: 1, pushed: 9, waits: { already_reported: 8, aggregating: 1 } },
    references: [
      { name: TRIVIAL, requests: 1000, worker: 1000, proxy: 1000 },
      ...(transport === "push" ? [{ name: REFUSED_FRAME, requests: 1000, worker: 200, proxy: 100 }] : []),
    ],
    connections: transport === "push" ? { connections: 2, worker: 20, proxy: 10, calls: 0, statements: 0 } : null,
    idleMsPerSecond: { worker: 5, proxy: 0 },
    before: counters(10, 100),
    after: counters(30, 200),
  };
}

describe("transportFigures", () => {
  it("divides the window's CPU and counts by the contributions, and sets the ceiling by requests and frames", () => {
    const http = transportFigures(result("http", 30, 0));
    expect(http).toMatchObject({ contributions: 10, cpuMs: 50, workerCpuMs: 40, proxyCpuMs: 10, idleMs: 2, requests: 3, frames: 0, objectCalls: 2, sqlWrites: 10, rowsWritten: 20 });
    // 3 requests x 2 ms (1 + 1) per trivial request.
    expect(http.ceilingMs).toBe(6);
    expect(http.trivialRequestsWorth).toBe(25);

    const push = transportFigures(result("push", 20, 30));
    expect(push).toMatchObject({ requests: 2, frames: 3, framesSent: 1.5, keepAliveFrames: 0.8, tasksPushed: 0.9, tasksAnswered: 0.1, waits: { already_reported: 0.8, aggregating: 0.1 } });
    // A frame is half a refused exchange: (0.2 + 0.1) / 2 = 0.15 ms; 2 x 2 + 3 x 0.15.
    expect(push.frameMs).toBe(0.15);
    expect(push.ceilingMs).toBe(4.45);
    expect(push.workerCeilingMs).toBe(2.3);
    expect(push.connection).toMatchObject({ cpuMs: 15, workerCpuMs: 10 });
  });

  it("writes one column per transport in the results document", () => {
    const run = { date: "2026-12-03T00:00:00.000Z", machine: "test", loadavg: "0", parameters: 10, devices: 2, rounds: 5, concurrency: 1, shards: 1, spreadMs: 0, seconds: 4 };
    const report = contributionReport({ ...run, results: [result("http", 30, 0), result("push", 20, 30)] });
    expect(report.markdown).toContain("| per contribution | HTTP | push |");
    expect(report.markdown).toContain("| ceiling: requests x trivial request + frames x a frame, ms | 6 | 4.45 |");
    expect(Object.keys(report.json.transports)).toEqual(["http", "push"]);
    const single = contributionReport({ ...run, results: [result("push", 20, 30)] });
    expect(single.markdown).toContain("| per contribution | push |");
    expect(single.markdown).toContain("This run measured push devices only.");
    expect(report.markdown).toContain("their rounds alternate");
  });
});
