/**
 * The metrics `GET /metrics` serves (see docs/api.md): names, types, help and histogram buckets.
 * Job series carry `job_id` and `tenant` labels (not `job`, which Prometheus sets on every target);
 * platform series (check-ins, devices) carry neither and are the operator's only.
 */
export type MetricType = "counter" | "gauge" | "histogram";

export interface MetricInfo {
  type: MetricType;
  help: string;
  /** Upper bounds of a histogram's buckets, ascending (`+Inf` is implied). */
  buckets?: readonly number[];
  /** Whether the series belong to a job (scoped to its tenant) or to the platform (operator only). */
  scope: "job" | "platform";
}

/** Seconds, for round and aggregation durations: from 50 ms to an hour. */
const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;

export const METRICS = {
  propius_rounds_closed_total: { type: "counter", scope: "job", help: "Round attempts that closed with a new model." },
  propius_round_retries_total: { type: "counter", scope: "job", help: "Round attempts retried: too few reports by their deadline." },
  propius_updates_accepted_total: { type: "counter", scope: "job", help: "Updates counted into round attempts that ended (closed, retried or cancelled)." },
  propius_updates_refused_total: { type: "counter", scope: "job", help: "Uploads of updates refused, by error code." },
  propius_device_failures_total: { type: "counter", scope: "job", help: "Tasks a device reported it could not do, by failure code." },
  propius_device_leases_expired_total: { type: "counter", scope: "job", help: "Bound devices whose lease ran out with neither an update nor a failure." },
  propius_bindings_total: { type: "counter", scope: "job", help: "Devices bound to a job's round, by the scheduling policy that bound them." },
  propius_update_received_bytes_total: { type: "counter", scope: "job", help: "Bytes of the accepted updates." },
  propius_model_sent_bytes_total: { type: "counter", scope: "job", help: "Bytes the reporting devices downloaded for their rounds." },
  propius_round_duration_seconds: { type: "histogram", scope: "job", buckets: DURATION_BUCKETS, help: "Time from a round attempt opening to its close with a new model." },
  propius_aggregation_duration_seconds: { type: "histogram", scope: "job", buckets: DURATION_BUCKETS, help: "Time to seal, combine and store a round's sums into the next model." },
  propius_jobs: { type: "gauge", scope: "job", help: "Jobs by state." },
  propius_checkins_total: { type: "counter", scope: "platform", help: "Device check-ins, by transport (http, or push frames and rechecks)." },
  propius_devices_registered: { type: "gauge", scope: "platform", help: "Devices in the client-manager registries (heard from within the registry's TTL)." },
} as const satisfies Record<string, MetricInfo>;

export type MetricName = keyof typeof METRICS;
export type HistogramName = { [K in MetricName]: (typeof METRICS)[K]["type"] extends "histogram" ? K : never }[MetricName];
export type CounterName = { [K in MetricName]: (typeof METRICS)[K]["type"] extends "counter" ? K : never }[MetricName];

export function isMetricName(name: string): name is MetricName {
  return Object.hasOwn(METRICS, name);
}

/** The index of the bucket an observation falls in (`buckets.length` for +Inf). */
export function bucketIndex(buckets: readonly number[], value: number): number {
  const index = buckets.findIndex((bound) => value <= bound);
  return index < 0 ? buckets.length : index;
}
