import type { MetricBatch } from "./metric-batch.js";

/**
 * A client-manager shard's counts since its last report (check-ins by transport, bindings by job
 * and policy), kept in memory: one integer add per event, no write. `take` turns them into a
 * batch; a batch whose report failed is kept and sent again with the same sequence number, so
 * the aggregating object counts it once. Counts still in memory when the shard's isolate ends
 * are lost: the shard's series count at most once.
 */
export class ShardTally {
  private readonly checkIns = new Map<string, number>();
  private readonly bindings = new Map<string, Map<string, number>>();
  private unsent: MetricBatch[] = [];
  private seq = 0;

  constructor(readonly source: string) {}

  checkIn(transport: "http" | "push"): void {
    this.checkIns.set(transport, (this.checkIns.get(transport) ?? 0) + 1);
  }

  bound(jobId: string, policy: string): void {
    let byPolicy = this.bindings.get(jobId);
    if (!byPolicy) this.bindings.set(jobId, (byPolicy = new Map()));
    byPolicy.set(policy, (byPolicy.get(policy) ?? 0) + 1);
  }

  /** Whether anything is waiting to be reported. */
  get pending(): boolean {
    return this.checkIns.size > 0 || this.bindings.size > 0 || this.unsent.length > 0;
  }

  /** The batches to report: any earlier one not acknowledged, then the counts since. */
  take(): MetricBatch[] {
    if (this.checkIns.size > 0 || this.bindings.size > 0) {
      const batch: MetricBatch = { source: this.source, seq: ++this.seq, increments: [], observations: [] };
      for (const [transport, value] of this.checkIns) batch.increments.push({ name: "propius_checkins_total", labels: { transport }, value });
      for (const [job, byPolicy] of this.bindings) for (const [policy, value] of byPolicy) batch.increments.push({ name: "propius_bindings_total", job, labels: { policy }, value });
      this.checkIns.clear();
      this.bindings.clear();
      this.unsent.push(batch);
    }
    return [...this.unsent];
  }

  /** The aggregating object applied these batches. */
  acknowledge(batches: MetricBatch[]): void {
    const done = new Set(batches.map((b) => b.seq));
    this.unsent = this.unsent.filter((b) => !done.has(b.seq));
  }
}
