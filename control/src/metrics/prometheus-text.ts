import { METRICS, type MetricName } from "./metric-catalog.js";

/** Labels of one series, in the order they are written. */
export type Labels = Record<string, string>;

/** A counter's or gauge's value, or a histogram's counts per bucket (not cumulative; the last one is +Inf). */
export type Sample = { labels: Labels; value: number } | { labels: Labels; buckets: number[]; sum: number };

/** What one scrape shows: samples by metric. */
export type Exposition = Partial<Record<MetricName, Sample[]>>;

/** The content type of the Prometheus text format, version 0.0.4. */
export const TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";

/**
 * Writes metrics in the Prometheus text format: a `# HELP` and `# TYPE` line per family, then its
 * series; histograms as cumulative `_bucket` series with `le` (ending with `+Inf`), `_sum` and
 * `_count`. Families are written in the catalog's order, even with no series, so that a scraper
 * sees every name from the first scrape.
 */
export function writeText(exposition: Exposition): string {
  const lines: string[] = [];
  for (const [name, info] of Object.entries(METRICS) as [MetricName, (typeof METRICS)[MetricName]][]) {
    lines.push(`# HELP ${name} ${escapeHelp(info.help)}`, `# TYPE ${name} ${info.type}`);
    for (const sample of exposition[name] ?? []) {
      if ("buckets" in sample) {
        const bounds = "buckets" in info ? info.buckets : [];
        let cumulative = 0;
        for (let i = 0; i <= bounds.length; i++) {
          cumulative += sample.buckets[i] ?? 0;
          lines.push(`${name}_bucket${labelText({ ...sample.labels, le: i < bounds.length ? number(bounds[i]) : "+Inf" })} ${number(cumulative)}`);
        }
        lines.push(`${name}_sum${labelText(sample.labels)} ${number(sample.sum)}`, `${name}_count${labelText(sample.labels)} ${number(cumulative)}`);
      } else {
        lines.push(`${name}${labelText(sample.labels)} ${number(sample.value)}`);
      }
    }
  }
  return lines.join("\n") + "\n";
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/** Help text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
