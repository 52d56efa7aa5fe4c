import { describe, expect, it } from "vitest";
import type { JobStatus, RoundRecord } from "@propius/shared";
import { endedRoundBatch, labelKey } from "./metric-batch.js";
import { ShardTally } from "./shard-tally.js";
import { expositionOf, type StoredRow } from "./exposition.js";
import { starvationOf } from "./starvation.js";

function round(over: Partial<RoundRecord>): RoundRecord {
  return {
    round: 1, attempt: 0, status: "closed", demand: 3, bound: 4, reported: 3, failed: {}, timedOut: 0, examples: 90, trainLoss: 0.5,
    testAccuracy: null, testLoss: null, bytesIn: 3000, bytesOut: 1200, openedAt: 10_000, closedAt: 12_500, baseModel: "a", resultModel: "b", ...over,
  };
}

describe("a round attempt's figures", () => {
  it("come from its record when it closed: updates, failures by code, expired leases, bytes, and its durations", () => {
    const batch = endedRoundBatch("job_a", round({ failed: { missing_kernel: 1 }, timedOut: 2 }), 0.25)!;
    expect(batch.source).toBe("job:job_a");
    expect(batch.seq).toBe(1_000_000);
    expect(batch.increments).toEqual([
      { name: "propius_rounds_closed_total", job: "job_a", value: 1 },
      { name: "propius_updates_accepted_total", job: "job_a", value: 3 },
      { name: "propius_device_failures_total", job: "job_a", value: 1, labels: { code: "missing_kernel" } },
      { name: "propius_device_leases_expired_total", job: "job_a", value: 2 },
      { name: "propius_update_received_bytes_total", job: "job_a", value: 3000 },
      { name: "propius_model_sent_bytes_total", job: "job_a", value: 1200 },
    ]);
    expect(batch.observations).toEqual([
      { name: "propius_round_duration_seconds", job: "job_a", value: 2.5 },
      { name: "propius_aggregation_duration_seconds", job: "job_a", value: 0.25 },
    ]);
  });

  it("count a retry, and no duration, for an attempt retried; nothing for one still open; later attempts order after earlier ones", () => {
    const retried = endedRoundBatch("job_a", round({ status: "retried", reported: 1, bytesIn: 0, bytesOut: 0, attempt: 2 }))!;
    expect(retried.increments.map((i) => [i.name, i.value])).toEqual([["propius_round_retries_total", 1], ["propius_updates_accepted_total", 1]]);
    expect(retried.observations).toEqual([]);
    expect(endedRoundBatch("job_a", round({ status: "open" }))).toBeNull();
    expect(endedRoundBatch("job_a", round({ status: "aggregating" }))).toBeNull();
    expect(endedRoundBatch("job_a", round({ round: 2, attempt: 0 }))!.seq).toBeGreaterThan(retried.seq);
  });

  it("name a series by its labels in one order", () => {
    expect(labelKey({ b: "2", a: "1" })).toBe(labelKey({ a: "1", b: "2" }));
    expect(labelKey(undefined)).toBe("{}");
  });
});

describe("a shard's tally", () => {
  it("sums check-ins and bindings into one batch, and sends an unacknowledged batch again with its number", () => {
    const tally = new ShardTally("shard-1/x");
    expect(tally.pending).toBe(false);
    expect(tally.take()).toEqual([]);
    tally.checkIn("http");
    tally.checkIn("http");
    tally.checkIn("push");
    tally.bound("job_a", "irs");
    const first = tally.take();
    expect(first).toEqual([{
      source: "shard-1/x", seq: 1, observations: [],
      increments: [
        { name: "propius_checkins_total", labels: { transport: "http" }, value: 2 },
        { name: "propius_checkins_total", labels: { transport: "push" }, value: 1 },
        { name: "propius_bindings_total", job: "job_a", labels: { policy: "irs" }, value: 1 },
      ],
    }]);
    // The report failed: the same batch goes again, with what came since in a batch of its own.
    tally.bound("job_a", "irs");
    const second = tally.take();
    expect(second.map((b) => b.seq)).toEqual([1, 2]);
    expect(second[0]).toEqual(first[0]);
    tally.acknowledge(second);
    expect(tally.pending).toBe(false);
    expect(tally.take()).toEqual([]);
  });
});

describe("the exposition from stored rows", () => {
  const jobs = [{ id: "job_a", tenant: "t1", state: "running" as const }, { id: "job_b", tenant: "t2", state: "done" as const }];
  const counters: StoredRow[] = [
    { job: "job_a", name: "propius_rounds_closed_total", labels: "{}", value: 2 },
    { job: "job_b", name: "propius_rounds_closed_total", labels: "{}", value: 5 },
    { job: "job_gone", name: "propius_rounds_closed_total", labels: "{}", value: 9 },
    { job: "", name: "propius_checkins_total", labels: '{"transport":"http"}', value: 40 },
    { job: "", name: "propius_updates_refused_total", labels: '{"code":"ticket_invalid"}', value: 1 },
  ];
  const buckets: StoredRow[] = [
    { job: "job_a", name: "propius_round_duration_seconds", labels: "{}", bucket: 4, value: 2 },
    { job: "job_a", name: "propius_round_duration_seconds", labels: "{}", bucket: -1, value: 1.5 },
  ];

  it("shows the operator every listed job's series with job_id and tenant, the platform's, jobs by state and devices", () => {
    const all = expositionOf({ counters, buckets, devices: 12 }, jobs, true);
    expect(all.propius_rounds_closed_total).toEqual([{ labels: { job_id: "job_a", tenant: "t1" }, value: 2 }, { labels: { job_id: "job_b", tenant: "t2" }, value: 5 }]);
    expect(all.propius_checkins_total).toEqual([{ labels: { transport: "http" }, value: 40 }]);
    expect(all.propius_updates_refused_total).toEqual([{ labels: { code: "ticket_invalid" }, value: 1 }]);
    expect(all.propius_round_duration_seconds).toEqual([{ labels: { job_id: "job_a", tenant: "t1" }, buckets: [0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], sum: 1.5 }]);
    expect(all.propius_jobs).toEqual([{ labels: { tenant: "t1", state: "running" }, value: 1 }, { labels: { tenant: "t2", state: "done" }, value: 1 }]);
    expect(all.propius_devices_registered).toEqual([{ labels: {}, value: 12 }]);
  });

  it("shows a tenant its own jobs only: no other tenant's series, no platform series", () => {
    const mine = expositionOf({ counters, buckets, devices: 12 }, jobs.filter((j) => j.tenant === "t2"), false);
    expect(mine.propius_rounds_closed_total).toEqual([{ labels: { job_id: "job_b", tenant: "t2" }, value: 5 }]);
    expect(mine.propius_round_duration_seconds).toBeUndefined();
    expect(mine.propius_checkins_total).toBeUndefined();
    expect(mine.propius_updates_refused_total).toBeUndefined();
    expect(mine.propius_devices_registered).toBeUndefined();
    expect(mine.propius_jobs).toEqual([{ labels: { tenant: "t2", state: "done" }, value: 1 }]);
  });
});

describe("starvation", () => {
  const status = (rounds: RoundRecord[], state: JobStatus["state"] = "running") =>
    ({ state, currentRound: 2, rounds, spec: { plan: { clientsPerRound: 5, minReportFraction: 0.8 } } }) as unknown as JobStatus;
  const supply = (eligibleDevices: number) => ({ eligibleDevices, windowSeconds: 60, measuredAt: 5_000 });

  it("is declared when fewer eligible devices were seen than the current round needs reports, with its retries, and a retried round is held back", () => {
    const rounds = [round({ round: 1 }), round({ round: 2, attempt: 0, status: "retried", demand: 5 }), round({ round: 2, attempt: 1, status: "retried", demand: 5 }), round({ round: 2, attempt: 2, status: "open", demand: 5 })];
    expect(starvationOf(status(rounds), supply(3))).toEqual({
      starved: true, eligibleDevices: 3, windowSeconds: 60, demand: 5, minimumReports: 4, attemptsRetried: 2, measuredAt: 5_000, admitted: false, reason: "starving: 3 eligible online, needs 4",
    });
    expect(starvationOf(status(rounds), supply(4))).toMatchObject({ starved: false, minimumReports: 4, admitted: true });
    expect(starvationOf(status(rounds), supply(4))).not.toHaveProperty("reason");
  });

  it("admits a round's first attempt whatever the count: the count lags the devices", () => {
    const rounds = [round({ round: 1 }), round({ round: 2, attempt: 0, status: "open", demand: 5 })];
    expect(starvationOf(status(rounds), supply(0))).toMatchObject({ starved: true, eligibleDevices: 0, admitted: true });
  });

  it("is null for a job that is not running", () => {
    expect(starvationOf(status([], "done"), supply(0))).toBeNull();
  });
});
