import type { SqlPort } from "../storage/sql-port.js";
import { METRICS, bucketIndex } from "./metric-catalog.js";
import { labelKey, type Increment, type MetricBatch } from "./metric-batch.js";
import type { Exposition } from "./prometheus-text.js";
import { expositionOf, type LedgerJob, type StoredRow } from "./exposition.js";

export type { LedgerJob } from "./exposition.js";

const SCHEMA = [
  // job is '' for platform series. labels is `labelKey` of the series' own labels.
  "CREATE TABLE IF NOT EXISTS metric_counters (job TEXT NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (job, name, labels))",
  // One row per histogram bucket (not cumulative); bucket -1 holds the sum of the observations.
  "CREATE TABLE IF NOT EXISTS metric_buckets (job TEXT NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL, bucket INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (job, name, labels, bucket))",
  "CREATE TABLE IF NOT EXISTS metric_sources (source TEXT PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL)",
  // A shard's latest figures: its registered devices (job ''), and per job the eligible devices it saw.
  "CREATE TABLE IF NOT EXISTS shard_gauges (shard TEXT NOT NULL, kind TEXT NOT NULL, job TEXT NOT NULL, value REAL NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (shard, kind, job))",
];

/** Sources not heard from for this long are forgotten (a shard's isolate that ended, a deleted job). */
const SOURCE_TTL_MS = 7 * 24 * 3600_000;

/** What a client-manager shard reports beside its counter batches. */
export interface ShardGauges {
  shard: string;
  /** Devices in its registry. */
  devices?: number;
  /** Per running job: devices it heard from within `windowSeconds` that meet the job's public constraints. */
  eligible?: Record<string, number>;
  windowSeconds?: number;
}

/** What a client-manager shard reports on its alarm: its counter batches and its figures. */
export interface ShardReport {
  batches: MetricBatch[];
  gauges?: ShardGauges;
}

/** The eligible devices the shards saw for a job, summed over their latest reports that are recent enough. */
export interface SupplySeen {
  eligibleDevices: number;
  windowSeconds: number;
  /** When the latest report counted was made (null: no shard has reported on the job in time). */
  measuredAt: number | null;
}

/**
 * The one place counters are summed: batches from jobs (at each round attempt's end) and from
 * client-manager shards (on calls they make anyway, or on their alarm) are added here, each batch
 * once, and a scrape reads these tables only. Plain class over SQL, no platform import.
 */
export class MetricsLedger {
  constructor(private readonly sql: SqlPort, raw: SqlPort = sql) {
    for (const statement of SCHEMA) raw.exec(statement);
  }

  /** Adds the batches not applied before; returns how many were applied. */
  apply(batches: readonly MetricBatch[], now: number): number {
    let applied = 0;
    for (const batch of batches) {
      const [last] = this.sql.exec("SELECT seq FROM metric_sources WHERE source = ?", batch.source).toArray();
      if (last && Number(last.seq) >= batch.seq) continue;
      if (!last) this.sql.exec("DELETE FROM metric_sources WHERE at < ?", now - SOURCE_TTL_MS);
      this.sql.exec("INSERT INTO metric_sources (source, seq, at) VALUES (?, ?, ?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq, at = excluded.at", batch.source, batch.seq, now);
      for (const { name, job, labels, value } of batch.increments) this.add("metric_counters", job ?? "", name, labelKey(labels), null, value);
      for (const { name, job, labels, value } of batch.observations) {
        const key = labelKey(labels);
        this.add("metric_buckets", job, name, key, bucketIndex(METRICS[name].buckets, value), 1);
        this.add("metric_buckets", job, name, key, -1, value);
      }
      applied += 1;
    }
    return applied;
  }

  /** Adds one increment outside any batch (an event counted where it happens, at most once). */
  count(increment: Increment): void {
    this.add("metric_counters", increment.job ?? "", increment.name, labelKey(increment.labels), null, increment.value);
  }

  /** Replaces a shard's figures (its eligible counts for jobs it no longer lists go). */
  report(gauges: ShardGauges, now: number): void {
    if (gauges.devices !== undefined) this.sql.exec("INSERT OR REPLACE INTO shard_gauges (shard, kind, job, value, at) VALUES (?, 'devices', '', ?, ?)", gauges.shard, gauges.devices, now);
    if (gauges.eligible) {
      this.sql.exec("DELETE FROM shard_gauges WHERE shard = ? AND kind = 'eligible'", gauges.shard);
      for (const [job, n] of Object.entries(gauges.eligible)) {
        this.sql.exec("INSERT INTO shard_gauges (shard, kind, job, value, at) VALUES (?, 'eligible', ?, ?, ?)", gauges.shard, job, n, now);
      }
      this.sql.exec("INSERT OR REPLACE INTO shard_gauges (shard, kind, job, value, at) VALUES (?, 'window', '', ?, ?)", gauges.shard, gauges.windowSeconds ?? 0, now);
    }
  }

  /**
   * The eligible devices seen for `jobId`: the sum over shards whose latest report is younger than
   * `maxAgeMs` (a shard that has gone quiet has no devices left in its window to count).
   */
  supplyOf(jobId: string, now: number, maxAgeMs: number): SupplySeen {
    const rows = this.sql.exec("SELECT shard, kind, job, value, at FROM shard_gauges WHERE kind = 'window' OR (kind = 'eligible' AND job = ?)", jobId).toArray();
    const windows = new Map(rows.filter((r) => r.kind === "window").map((r) => [r.shard as string, { seconds: Number(r.value), at: Number(r.at) }]));
    let eligibleDevices = 0;
    let measuredAt: number | null = null;
    let windowSeconds = 0;
    for (const [shard, window] of windows) {
      if (now - window.at > maxAgeMs) continue;
      windowSeconds = Math.max(windowSeconds, window.seconds);
      measuredAt = Math.max(measuredAt ?? 0, window.at);
      eligibleDevices += Number(rows.find((r) => r.kind === "eligible" && r.shard === shard)?.value ?? 0);
    }
    return { eligibleDevices, windowSeconds, measuredAt };
  }

  /** Forgets a deleted job's series. */
  forgetJob(jobId: string): void {
    this.sql.exec("DELETE FROM metric_counters WHERE job = ?", jobId);
    this.sql.exec("DELETE FROM metric_buckets WHERE job = ?", jobId);
    this.sql.exec("DELETE FROM metric_sources WHERE source = ?", `job:${jobId}`);
    this.sql.exec("DELETE FROM shard_gauges WHERE kind = 'eligible' AND job = ?", jobId);
  }

  /**
   * The series `jobs` may see: those of these jobs (with their `job_id` and `tenant`), jobs by state,
   * and, for the operator, the platform series.
   */
  exposition(jobs: readonly LedgerJob[], operator: boolean): Exposition {
    const counters = this.sql.exec("SELECT job, name, labels, value FROM metric_counters ORDER BY name, job, labels").toArray() as unknown as StoredRow[];
    const buckets = this.sql.exec("SELECT job, name, labels, bucket, value FROM metric_buckets ORDER BY name, job, labels").toArray() as unknown as StoredRow[];
    const [devices] = this.sql.exec("SELECT COALESCE(SUM(value), 0) AS n FROM shard_gauges WHERE kind = 'devices'").toArray();
    return expositionOf({ counters, buckets, devices: Number(devices.n) }, jobs, operator);
  }

  private add(table: "metric_counters" | "metric_buckets", job: string, name: string, labels: string, bucket: number | null, value: number): void {
    if (table === "metric_counters") {
      this.sql.exec("INSERT INTO metric_counters (job, name, labels, value) VALUES (?, ?, ?, ?) ON CONFLICT (job, name, labels) DO UPDATE SET value = value + excluded.value", job, name, labels, value);
    } else {
      this.sql.exec("INSERT INTO metric_buckets (job, name, labels, bucket, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (job, name, labels, bucket) DO UPDATE SET value = value + excluded.value", job, name, labels, bucket, value);
    }
  }
}
