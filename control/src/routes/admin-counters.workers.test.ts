import { afterEach, describe, expect, it } from "vitest";
import { ADMIN_KEY, api, cancelRunningJobs, delta, expectError, expectJson, registerClient, runningJob, taskFor, uploadDelta } from "../../test/fixtures.js";
import type { CountersTotal } from "../diagnostics/counters-total.js";

afterEach(cancelRunningJobs);

const counters = (jobId?: string) => expectJson<CountersTotal>(api(`/v1/admin/counters${jobId ? `?job=${jobId}` : ""}`, { token: ADMIN_KEY }));

/** What moved between two readings: calls by `Class.method` and write statements by class, zeros left out. */
function moved(before: CountersTotal, after: CountersTotal) {
  const calls: Record<string, number> = {};
  for (const [key, n] of Object.entries(after.calls)) if (n !== (before.calls[key] ?? 0)) calls[key] = n - (before.calls[key] ?? 0);
  const statements: Record<string, number> = {};
  const rows: Record<string, number> = {};
  for (const [name, w] of Object.entries(after.writes)) {
    const was = before.writes[name] ?? { statements: 0, rows: 0 };
    if (w.statements !== was.statements) statements[name] = w.statements - was.statements;
    if (w.rows !== was.rows) rows[name] = w.rows - was.rows;
  }
  return { calls, statements, rows };
}

describe("GET /v1/admin/counters", () => {
  it("counts a check-in's and an upload's object calls and SQL writes, by class", async () => {
    const { job } = await runningJob({ rounds: 2, clientsPerRound: 2 });
    const { token } = await registerClient();
    const before = await counters(job.id);
    expect(before.objects.map((o) => o.name)).toEqual(["directory", "clients-0", "clients-1", "clients-2", "clients-3", "job", "aggregator-0"]);

    const task = await taskFor(token, job.id);
    const checkedIn = await counters(job.id);
    const checkIn = moved(before, checkedIn);
    // The device's shard asks the directory for the running jobs (the tests' view lasts 0 ms) and the job for a slot.
    expect(checkIn.calls).toEqual({ "ClientManagerObject.checkIn": 1, "DirectoryObject.scheduledJobs": 1, "JobObject.claim": 1 });
    // The device's row and its binding at its shard; the assignment at the job; nothing elsewhere.
    expect(checkIn.statements).toEqual({ ClientManagerObject: 2, JobObject: expect.any(Number) });
    expect(checkIn.statements.JobObject).toBeGreaterThan(0);
    expect(checkIn.rows.ClientManagerObject).toBeGreaterThanOrEqual(2);

    expect((await uploadDelta(token, task, delta([1, 2, 3, 4]))).status).toBe(202);
    const uploaded = await counters(job.id);
    const upload = moved(checkedIn, uploaded);
    // One call from the Worker to the shard; the shard learns the job once and has its group counted.
    // The Worker asks the device's client-manager shard whether it was revoked (a read, at most once per 5 s and isolate).
    expect(upload.calls).toEqual({ "AggregatorObject.submit": 1, "JobObject.describe": 1, "JobObject.commitFolds": 1, "ClientManagerObject.revoked": 1 });
    expect(Object.keys(upload.statements).sort()).toEqual(["AggregatorObject", "JobObject"]);
    expect(upload.rows.AggregatorObject).toBeGreaterThan(0);

    // The totals add up, and no object restarted in between (its counts would have begun again).
    expect(uploaded.totals.calls).toBe(Object.values(uploaded.calls).reduce((a, b) => a + b, 0));
    expect(uploaded.objects.map((o) => o.instance)).toEqual(before.objects.map((o) => o.instance));
  });

  it("reaches the directory and the client-manager shards without a job, and refuses an unknown job or a missing admin key", async () => {
    const reached = await counters();
    expect(reached.objects.map((o) => o.class)).toEqual(["DirectoryObject", "ClientManagerObject", "ClientManagerObject", "ClientManagerObject", "ClientManagerObject"]);
    await expectError(api("/v1/admin/counters?job=job_nosuchjob000000", { token: ADMIN_KEY }), 404, "job_not_found");
    await expectError(api("/v1/admin/counters?job=../x", { token: ADMIN_KEY }), 404, "job_not_found");
    await expectError(api("/v1/admin/counters"), 401, "unauthorized");
    await expectError(api("/v1/admin/counters", { token: "pk_not_the_admin" }), 401, "unauthorized");
  });
});
