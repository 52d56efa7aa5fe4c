import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { TEXT_FORMAT } from "../metrics/prometheus-text.js";
import {
  ADMIN_KEY, api, cancelRunningJobs, createJob, createTenant, delta, expectError, expectJson, registerClient, runningJob, taskFor, testEnv, uploadDelta, waitForRound,
} from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

async function scrape(token: string): Promise<string> {
  const response = await api("/metrics", { token });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get("content-type")).toBe(TEXT_FORMAT);
  return text;
}

/** The value of the one sample of `name` whose labels include every one of `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = text.split("\n").filter((line) => {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) return false;
    return Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
  });
  if (matches.length > 1) throw new Error(`${matches.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return matches[0] === undefined ? undefined : Number(matches[0].slice(matches[0].lastIndexOf(" ") + 1));
}

/** Fires every client-manager shard's alarm: each reports its counts and figures to the directory. */
async function flushShards(): Promise<void> {
  for (let i = 0; i < 4; i++) await runDurableObjectAlarm(testEnv.CLIENTS.get(testEnv.CLIENTS.idFromName(`clients-${i}`)));
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("timed out");
}

describe("GET /metrics", () => {
  it("refuses a scrape without credentials, with an unknown key or a wrong admin key (401), and with a device token (403)", async () => {
    await expectError(api("/metrics"), 401, "unauthorized");
    await expectError(api("/metrics", { token: "pk_nosuchkey" }), 401, "unauthorized");
    await expectError(api("/metrics", { token: "not-the-admin-key" }), 401, "unauthorized");
    const { token } = await registerClient();
    await expectError(api("/metrics", { token }), 403, "forbidden");
  });

  it("counts a round's close, its updates, bytes and duration for its tenant and the operator; another tenant sees none of it", async () => {
    const { tenant, apiKey, job } = await runningJob({ rounds: 2, clientsPerRound: 2 });
    const other = await createTenant();
    const otherJob = await createJob(other.apiKey);
    const labels = { job_id: job.id, tenant };

    const before = await scrape(apiKey);
    expect(sample(before, "propius_rounds_closed_total", labels)).toBeUndefined();
    expect(sample(before, "propius_jobs", { tenant, state: "running" })).toBe(1);

    const devices = [await registerClient(), await registerClient()];
    const tasks = [];
    for (const device of devices) tasks.push(await taskFor(device.token, job.id));
    for (const [i, device] of devices.entries()) expect((await uploadDelta(device.token, tasks[i], delta([1, 2, 3, 4]))).status).toBe(202);
    const status = await waitForRound(apiKey, job.id, 1, "closed");
    const closed = status.rounds.find((r) => r.round === 1 && r.status === "closed")!;

    const mine = await scrape(apiKey);
    expect(sample(mine, "propius_rounds_closed_total", labels)).toBe(1);
    expect(sample(mine, "propius_updates_accepted_total", labels)).toBe(2);
    expect(sample(mine, "propius_update_received_bytes_total", labels)).toBe(closed.bytesIn);
    expect(sample(mine, "propius_round_duration_seconds_count", labels)).toBe(1);
    expect(sample(mine, "propius_round_duration_seconds_sum", labels)).toBeCloseTo((closed.closedAt! - closed.openedAt) / 1000, 6);
    expect(sample(mine, "propius_aggregation_duration_seconds_count", labels)).toBe(1);
    expect(sample(mine, "propius_round_duration_seconds_bucket", { ...labels, le: "+Inf" })).toBe(1);
    // A tenant sees its own jobs only, and no platform series.
    expect(mine).not.toContain(otherJob.id);
    expect(mine).not.toContain(`tenant="${other.tenant}"`);
    expect(sample(mine, "propius_checkins_total", { transport: "http" })).toBeUndefined();
    expect(mine).not.toMatch(/^propius_devices_registered /m);

    const theirs = await scrape(other.apiKey);
    expect(theirs).not.toContain(job.id);
    expect(sample(theirs, "propius_jobs", { tenant: other.tenant, state: "pending_model" })).toBe(1);

    // Check-ins and bindings are counted at the shards and reported on their alarm.
    await flushShards();
    const all = await scrape(ADMIN_KEY);
    expect(sample(all, "propius_rounds_closed_total", labels)).toBe(1);
    expect(sample(all, "propius_jobs", { tenant: other.tenant, state: "pending_model" })).toBe(1);
    expect(sample(all, "propius_checkins_total", { transport: "http" })).toBeGreaterThanOrEqual(2);
    expect(sample(all, "propius_bindings_total", { ...labels, policy: "irs" })).toBe(2);
    expect(sample(all, "propius_devices_registered")).toBeGreaterThanOrEqual(2);
    expect(sample(await scrape(apiKey), "propius_bindings_total", { ...labels, policy: "irs" })).toBe(2);

    // A report sent again (an alarm with nothing new) adds nothing.
    await flushShards();
    expect(sample(await scrape(ADMIN_KEY), "propius_bindings_total", { ...labels, policy: "irs" })).toBe(2);
  });

  it("counts refused uploads by code under their job, and forgets a deleted job's series", async () => {
    const { tenant, apiKey, job } = await runningJob({ rounds: 1, clientsPerRound: 2 });
    const device = await registerClient();
    const task = await taskFor(device.token, job.id);
    expect((await uploadDelta(device.token, task, delta([1, 2, 3, 4]))).status).toBe(202);
    await expectError(uploadDelta(device.token, task, delta([1, 2, 3, 4])), 409, "ticket_used");
    await expectError(uploadDelta(device.token, task, delta([1, 2, 3, 4]), "tk.forged.ticket"), 403, "ticket_invalid");
    const labels = { job_id: job.id, tenant };
    const text = await until(() => scrape(apiKey), (t) => sample(t, "propius_updates_refused_total", { ...labels, code: "ticket_invalid" }) === 1);
    expect(sample(text, "propius_updates_refused_total", { ...labels, code: "ticket_used" })).toBe(1);

    await expectJson(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    await expectJson(api(`/v1/jobs/${job.id}`, { method: "DELETE", token: apiKey }));
    const after = await scrape(ADMIN_KEY);
    expect(after).not.toContain(job.id);
  });
});
