import type { RoundRecord } from "@propius/shared";
import type { CounterName, HistogramName } from "./metric-catalog.js";
import type { Labels } from "./prometheus-text.js";

/** Adds `value` to a counter; `job` names the job a job series belongs to (absent: a platform series). */
export interface Increment {
  name: CounterName;
  job?: string;
  labels?: Labels;
  value: number;
}

/** One observation of a histogram of a job. */
export interface Observation {
  name: HistogramName;
  job: string;
  labels?: Labels;
  value: number;
}

/**
 * Counter deltas from one source, applied once: the aggregating object ignores a batch whose
 * `seq` is not above the last one it applied from the same `source`, so a batch sent again
 * (a call that failed on its way back, a round close repeated) is not counted twice.
 */
export interface MetricBatch {
  source: string;
  seq: number;
  increments: Increment[];
  observations: Observation[];
}

/**
 * What a round attempt that ended (closed, retried or cancelled) adds, from its own record: the
 * record is the job's durable account of the attempt, so the figures need no write of their own.
 * Its sequence number orders the attempts of the job, so each is applied once.
 */
export function endedRoundBatch(jobId: string, record: RoundRecord, aggregationSeconds?: number): MetricBatch | null {
  if (record.status !== "closed" && record.status !== "retried" && record.status !== "cancelled") return null;
  const increments: Increment[] = [];
  const add = (name: CounterName, value: number, labels?: Labels) => {
    if (value > 0) increments.push({ name, job: jobId, value, ...(labels ? { labels } : {}) });
  };
  add(record.status === "closed" ? "propius_rounds_closed_total" : "propius_round_retries_total", record.status === "cancelled" ? 0 : 1);
  add("propius_updates_accepted_total", record.reported);
  for (const [code, n] of Object.entries(record.failed)) add("propius_device_failures_total", n ?? 0, { code });
  add("propius_device_leases_expired_total", record.timedOut);
  add("propius_update_received_bytes_total", record.bytesIn);
  add("propius_model_sent_bytes_total", record.bytesOut);
  const observations: Observation[] = [];
  if (record.status === "closed" && record.closedAt !== null) {
    observations.push({ name: "propius_round_duration_seconds", job: jobId, value: (record.closedAt - record.openedAt) / 1000 });
    if (aggregationSeconds !== undefined) observations.push({ name: "propius_aggregation_duration_seconds", job: jobId, value: aggregationSeconds });
  }
  return { source: `job:${jobId}`, seq: attemptSeq(record), increments, observations };
}

/** Orders a job's round attempts: round-major, then attempt. */
export function attemptSeq(record: Pick<RoundRecord, "round" | "attempt">): number {
  return record.round * 1_000_000 + record.attempt;
}

/** The canonical text of a series' labels, sorted by name: one stored row per series. */
export function labelKey(labels: Labels | undefined): string {
  if (!labels) return "{}";
  return JSON.stringify(Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
