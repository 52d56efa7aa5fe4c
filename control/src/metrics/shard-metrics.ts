import { PropiusError } from "@propius/shared";
import { ShardTally } from "./shard-tally.js";
import type { ShardReport } from "./metrics-ledger.js";

/**
 * A shard with counts to report sends them on its alarm, at most this long after the first: one
 * directory call per active shard per interval, off the check-in's path. Shorter than the idle time
 * after which a shard with only hibernated connections leaves memory (about 10 s), so that the
 * alarm runs while the counts are still there.
 */
export const METRICS_FLUSH_MS = 5_000;

/** The flush interval: METRICS_FLUSH_MS if set (the workers tests lengthen it, to flush by hand), else the default. */
export function metricsFlushMs(env: { METRICS_FLUSH_MS?: string }): number {
  if (env.METRICS_FLUSH_MS === undefined) return METRICS_FLUSH_MS;
  const ms = Number(env.METRICS_FLUSH_MS);
  if (!Number.isFinite(ms) || ms < 0) throw new PropiusError("not_configured", `METRICS_FLUSH_MS is '${env.METRICS_FLUSH_MS}'; use a number of milliseconds`);
  return ms;
}

/** What a shard's figures are read from (its client manager). */
export interface ShardFigures {
  /** Takes a fresh sample of the devices in the supply window. */
  sampleSupplyNow(now: number): void;
  registeredDevices(): number;
  eligibleByJob(): { eligible: Record<string, number>; windowSeconds: number };
}

/**
 * A client-manager shard's side of the metrics, free of platform imports: its tally, when its
 * alarm should report, and the report itself (counts, registry size, eligible devices per job),
 * which `send` delivers to the directory.
 */
export class ShardMetrics {
  readonly tally: ShardTally;
  /** When this isolate last reported its figures. */
  private reportedAt = 0;

  constructor(
    private readonly shard: string,
    private readonly send: (report: ShardReport) => Promise<void>,
    private readonly flushMs = METRICS_FLUSH_MS,
    instance: string = crypto.randomUUID(),
  ) {
    this.tally = new ShardTally(`${shard}/${instance}`);
  }

  /** After activity: when the alarm should report (null: nothing to report yet). */
  dueAt(now: number): number | null {
    return this.tally.pending || now - this.reportedAt >= this.flushMs ? now + this.flushMs : null;
  }

  /** On the alarm: reports what waits; a failed report is sent again with the next one. */
  async flush(figures: ShardFigures, now: number): Promise<void> {
    if (!this.tally.pending && now - this.reportedAt < this.flushMs) return;
    this.reportedAt = now;
    figures.sampleSupplyNow(now);
    const report: ShardReport = { batches: this.tally.take(), gauges: { shard: this.shard, devices: figures.registeredDevices(), ...figures.eligibleByJob() } };
    try {
      await this.send(report);
      this.tally.acknowledge(report.batches);
    } catch (error) {
      console.error("could not report this shard's metrics; they go with the next report", error);
    }
  }
}
