import { describe, expect, it } from "vitest";
import { METRICS_FLUSH_MS, ShardMetrics, type ShardFigures } from "./shard-metrics.js";
import type { ShardReport } from "./metrics-ledger.js";

const figures: ShardFigures = { sampleSupplyNow: () => undefined, registeredDevices: () => 3, eligibleByJob: () => ({ eligible: { job_a: 2 }, windowSeconds: 60 }) };

describe("a shard's metrics", () => {
  it("asks for its alarm a flush interval after activity, and reports its counts and figures then", async () => {
    const sent: ShardReport[] = [];
    const metrics = new ShardMetrics("shard-1", async (report) => void sent.push(report), METRICS_FLUSH_MS, "i");
    // Never reported: the figures are due.
    expect(metrics.dueAt(100_000)).toBe(100_000 + METRICS_FLUSH_MS);
    metrics.tally.checkIn("http");
    await metrics.flush(figures, 100_000);
    expect(sent).toEqual([{
      batches: [{ source: "shard-1/i", seq: 1, increments: [{ name: "propius_checkins_total", labels: { transport: "http" }, value: 1 }], observations: [] }],
      gauges: { shard: "shard-1", devices: 3, eligible: { job_a: 2 }, windowSeconds: 60 },
    }]);
    // Nothing new within the interval: no alarm wanted, and an alarm for another duty reports nothing.
    const soon = 100_000 + METRICS_FLUSH_MS / 2;
    expect(metrics.dueAt(soon)).toBeNull();
    await metrics.flush(figures, soon);
    expect(sent).toHaveLength(1);
    // Figures alone are due again once the interval has passed.
    expect(metrics.dueAt(100_000 + METRICS_FLUSH_MS)).not.toBeNull();
  });

  it("sends a batch whose report failed again, with its number, beside the newer one", async () => {
    let fail = true;
    const sent: ShardReport[] = [];
    const metrics = new ShardMetrics("shard-1", async (report) => {
      sent.push(report);
      if (fail) throw new Error("the directory is unreachable");
    }, METRICS_FLUSH_MS, "i");
    metrics.tally.bound("job_a", "irs");
    await metrics.flush(figures, 1_000);
    fail = false;
    metrics.tally.bound("job_a", "irs");
    await metrics.flush(figures, 2_000);
    expect(sent.map((r) => r.batches.map((b) => b.seq))).toEqual([[1], [1, 2]]);
    expect(metrics.tally.pending).toBe(false);
  });
});
