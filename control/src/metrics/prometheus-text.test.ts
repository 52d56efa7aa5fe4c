import { describe, expect, it } from "vitest";
import { METRICS } from "./metric-catalog.js";
import { escapeLabel, writeText } from "./prometheus-text.js";

describe("the Prometheus text writer", () => {
  it("writes HELP and TYPE for every metric of the catalog, with or without series", () => {
    const text = writeText({});
    for (const [name, info] of Object.entries(METRICS)) {
      expect(text).toContain(`# HELP ${name} `);
      expect(text).toContain(`# TYPE ${name} ${info.type}\n`);
    }
    expect(text.endsWith("\n")).toBe(true);
  });

  it("writes counters with their labels, escaping backslashes, quotes and line feeds", () => {
    const text = writeText({ propius_updates_refused_total: [{ labels: { job_id: "job_a", code: 'odd"\\\nname' }, value: 3 }] });
    expect(text).toContain('propius_updates_refused_total{job_id="job_a",code="odd\\"\\\\\\nname"} 3\n');
    expect(escapeLabel('a"b')).toBe('a\\"b');
  });

  it("writes histograms as cumulative buckets ending at +Inf, then _sum and _count", () => {
    const buckets = new Array<number>(METRICS.propius_round_duration_seconds.buckets.length + 1).fill(0);
    buckets[0] = 1; // <= 0.05 s
    buckets[4] = 2; // <= 1 s
    buckets[buckets.length - 1] = 1; // over an hour
    const text = writeText({ propius_round_duration_seconds: [{ labels: { job_id: "job_a" }, buckets, sum: 4000.5 }] });
    const lines = text.split("\n").filter((l) => l.startsWith("propius_round_duration_seconds"));
    expect(lines[0]).toBe('propius_round_duration_seconds_bucket{job_id="job_a",le="0.05"} 1');
    expect(lines[3]).toBe('propius_round_duration_seconds_bucket{job_id="job_a",le="0.5"} 1');
    expect(lines[4]).toBe('propius_round_duration_seconds_bucket{job_id="job_a",le="1"} 3');
    expect(lines.at(-3)).toBe('propius_round_duration_seconds_bucket{job_id="job_a",le="+Inf"} 4');
    expect(lines.slice(-2)).toEqual(['propius_round_duration_seconds_sum{job_id="job_a"} 4000.5', 'propius_round_duration_seconds_count{job_id="job_a"} 4']);
  });

});
