import { describe, expect, it } from "vitest";
import { TICKET_HEADER, encodeWeights, type Task } from "@propius/shared";
import { DeviceClient } from "./protocol/device-client.js";
import { runTaskLoop, type LoopEvent } from "./task-loop.js";

const TASK: Task = {
  jobId: "job_secure0000000", round: 1, attempt: 0, ticket: "tk.aaaa.bbbb", modelHash: "0".repeat(64), modelUrl: "/v1/models/x", uploadUrl: "/v1/jobs/job_secure0000000/rounds/1/updates",
  failureUrl: "/v1/jobs/job_secure0000000/rounds/1/failures", model: { format: "tfjs-layers", topology: {}, weightSpecs: [{ name: "w", shape: [2], dtype: "float32" }] },
  plan: { rounds: 1, clientsPerRound: 3, overCommit: 1, minReportFraction: 0.8, roundDeadlineSeconds: 60, localEpochs: 1, batchSize: 32, learningRate: 0.1, validationSplit: 0.1 } as Task["plan"],
  deadline: Date.now() + 60_000, secure: { url: "/v1/jobs/job_secure0000000/rounds/1/secure", range: 1, weighting: "examples", maxExamples: 100 },
};

/**
 * A control plane that hands the device one secure task and whose group has closed its roster
 * before the device joins (it trained too late): what the device does next is the test.
 */
function lateToItsGroup() {
  const calls: string[] = [];
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    calls.push(`${init?.method ?? "GET"} ${url.pathname}`);
    if (url.pathname === "/v1/checkin") return json(200, { status: "task", task: TASK });
    if (url.pathname === "/v1/models/x") return new Response(encodeWeights({ kind: "model", codec: "fp32", tensors: TASK.model.weightSpecs }, new Float32Array(2)));
    if (url.pathname.endsWith("/secure/keys")) {
      expect(new Headers(init?.headers).get(TICKET_HEADER)).toBe(TASK.ticket);
      return json(409, { error: { code: "secure_phase_closed", message: "its group's roster is closed" } });
    }
    return json(404, { error: { code: "not_found", message: url.pathname } });
  };
  return { calls, fetch };
}

describe("a device late to its secure group", () => {
  it("is refused, then waits out the task the job hands back instead of training it again", async () => {
    const server = lateToItsGroup();
    const client = new DeviceClient({ baseUrl: "http://control", credentials: { clientId: "c1", token: "ct_x" }, fetch: server.fetch, attempts: 1 });
    let trained = 0;
    const events: LoopEvent[] = [];
    const abort = new AbortController();
    await runTaskLoop({
      client, signal: abort.signal, pingIntervalMs: 0,
      trainer: async () => (trained++, { delta: Float32Array.of(0.1, -0.1), examples: 10, trainLoss: 1 }),
      onEvent: (event) => {
        events.push(event);
        if (event.type === "wait") abort.abort();
      },
    });
    expect(trained).toBe(1);
    expect(events.map((e) => (e.type === "refused" ? `refused ${e.code}` : e.type === "wait" ? `wait ${e.reason}` : e.type))).toEqual(["task", "downloaded", "trained", "refused secure_phase_closed", "wait secure_group_missed", "stopped"]);
    expect(server.calls.filter((c) => c.endsWith("/secure/keys"))).toHaveLength(1);
  });
});
