import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { testEnv } from "../../test/fixtures.js";
import { MetricsLedger } from "./metrics-ledger.js";
import type { MetricBatch } from "./metric-batch.js";

/** A ledger over the SQLite storage of a Durable Object of its own (a directory no route uses). */
async function withLedger(fn: (ledger: MetricsLedger) => void): Promise<void> {
  const stub = testEnv.DIRECTORY.get(testEnv.DIRECTORY.idFromName(`ledger-${crypto.randomUUID()}`));
  await runInDurableObject(stub, (_instance, state) => fn(new MetricsLedger(state.storage.sql)));
}

const batch = (seq: number, value: number): MetricBatch => ({
  source: "job:job_a", seq,
  increments: [{ name: "propius_updates_accepted_total", job: "job_a", value }],
  observations: [{ name: "propius_round_duration_seconds", job: "job_a", value: 0.7 }],
});
const jobs = [{ id: "job_a", tenant: "t", state: "running" as const }];

describe("the metrics ledger in SQLite", () => {
  it("applies each batch of a source once, in order, and sums counters and histogram buckets", async () => {
    await withLedger((ledger) => {
      expect(ledger.apply([batch(1, 3)], 1_000)).toBe(1);
      // Sent again (a reply lost on the way back), and an older one: neither is counted.
      expect(ledger.apply([batch(1, 3), batch(0, 5)], 2_000)).toBe(0);
      expect(ledger.apply([batch(2, 4)], 3_000)).toBe(1);
      const shown = ledger.exposition(jobs, false);
      expect(shown.propius_updates_accepted_total).toEqual([{ labels: { job_id: "job_a", tenant: "t" }, value: 7 }]);
      const [histogram] = shown.propius_round_duration_seconds!;
      expect(histogram).toMatchObject({ sum: 1.4 });
      // 0.7 s falls in the bucket up to 1 s, the fifth.
      expect("buckets" in histogram && histogram.buckets[4]).toBe(2);
      ledger.forgetJob("job_a");
      expect(ledger.exposition(jobs, true).propius_updates_accepted_total).toBeUndefined();
    });
  });

  it("sums the shards' latest eligible counts for a job while they are recent, and their registered devices", async () => {
    await withLedger((ledger) => {
      ledger.report({ shard: "s1", devices: 5, eligible: { job_a: 2, job_b: 1 }, windowSeconds: 60 }, 10_000);
      ledger.report({ shard: "s2", devices: 3, eligible: { job_a: 1 }, windowSeconds: 60 }, 20_000);
      expect(ledger.supplyOf("job_a", 30_000, 120_000)).toEqual({ eligibleDevices: 3, windowSeconds: 60, measuredAt: 20_000 });
      // A newer report replaces the shard's earlier one; a job it no longer lists counts 0 there.
      ledger.report({ shard: "s1", devices: 4, eligible: { job_a: 4 }, windowSeconds: 60 }, 40_000);
      expect(ledger.supplyOf("job_a", 50_000, 120_000).eligibleDevices).toBe(5);
      expect(ledger.supplyOf("job_b", 50_000, 120_000).eligibleDevices).toBe(0);
      // A shard quiet for longer than the age limit has no devices left in its window.
      expect(ledger.supplyOf("job_a", 150_000, 120_000)).toEqual({ eligibleDevices: 4, windowSeconds: 60, measuredAt: 40_000 });
      expect(ledger.exposition([], true).propius_devices_registered).toEqual([{ labels: {}, value: 7 }]);
    });
  });
});
