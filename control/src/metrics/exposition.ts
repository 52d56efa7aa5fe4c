import type { JobState } from "@propius/shared";
import { METRICS, isMetricName, type MetricName } from "./metric-catalog.js";
import type { Exposition, Labels, Sample } from "./prometheus-text.js";

/** A job as the directory lists it: what scopes its series and labels them. */
export interface LedgerJob {
  id: string;
  tenant: string;
  state: JobState;
}

/** A stored counter (no `bucket`) or histogram bucket row (`bucket` -1 is the sum); `job` '' is a platform series. */
export interface StoredRow {
  job: string;
  name: string;
  /** `labelKey` of the series' own labels. */
  labels: string;
  bucket?: number;
  value: number;
}

/**
 * What a scrape shows from the stored rows: only the series of `jobs` (labelled with their
 * `job_id` and `tenant`; a row of a job not listed is left out), jobs by tenant and state, and for
 * the operator the platform series and the registered devices.
 */
export function expositionOf(stored: { counters: StoredRow[]; buckets: StoredRow[]; devices: number }, jobs: readonly LedgerJob[], operator: boolean): Exposition {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const out: Exposition = {};
  const push = (name: MetricName, sample: Sample) => (out[name] ??= []).push(sample);
  const labelsOf = (job: string, key: string): Labels | null => {
    if (job === "") return operator ? (JSON.parse(key) as Labels) : null;
    const entry = byId.get(job);
    return entry ? { job_id: entry.id, tenant: entry.tenant, ...(JSON.parse(key) as Labels) } : null;
  };
  for (const row of stored.counters) {
    const labels = labelsOf(row.job, row.labels);
    if (labels && isMetricName(row.name)) push(row.name, { labels, value: Number(row.value) });
  }
  const histograms = new Map<string, { name: MetricName; labels: Labels; buckets: number[]; sum: number }>();
  for (const row of stored.buckets) {
    const name = row.name;
    const labels = labelsOf(row.job, row.labels);
    if (!labels || !isMetricName(name)) continue;
    const info = METRICS[name];
    if (!("buckets" in info)) continue;
    const id = `${name}\n${row.job}\n${row.labels}`;
    let histogram = histograms.get(id);
    if (!histogram) histograms.set(id, (histogram = { name, labels, buckets: new Array<number>(info.buckets.length + 1).fill(0), sum: 0 }));
    const bucket = Number(row.bucket);
    if (bucket < 0) histogram.sum = Number(row.value);
    else histogram.buckets[bucket] = Number(row.value);
  }
  for (const { name, ...sample } of histograms.values()) push(name, sample);
  const states = new Map<string, number>();
  for (const job of jobs) states.set(`${job.tenant}\n${job.state}`, (states.get(`${job.tenant}\n${job.state}`) ?? 0) + 1);
  for (const [key, value] of [...states].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const [tenant, state] = key.split("\n");
    push("propius_jobs", { labels: { tenant, state }, value });
  }
  if (operator) push("propius_devices_registered", { labels: {}, value: stored.devices });
  return out;
}
