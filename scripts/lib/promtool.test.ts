import { describe, expect, it } from "vitest";
import { METRICS } from "../../control/src/metrics/metric-catalog.js";
import { writeText } from "../../control/src/metrics/prometheus-text.js";
import { promtoolCheck } from "./promtool.js";

describe("the Prometheus text writer, linted by promtool", () => {
  it("passes `promtool check metrics` (when promtool is installed; CI requires it)", async () => {
    const buckets = new Array<number>(METRICS.propius_aggregation_duration_seconds.buckets.length + 1).fill(0);
    buckets[2] = 5;
    const text = writeText({
      propius_rounds_closed_total: [{ labels: { job_id: "job_a", tenant: "t" }, value: 2 }],
      propius_aggregation_duration_seconds: [{ labels: { job_id: "job_a", tenant: "t" }, buckets, sum: 1.2 }],
      propius_jobs: [{ labels: { tenant: "t", state: "running" }, value: 1 }],
      propius_devices_registered: [{ labels: {}, value: 7 }],
    });
    const checked = await promtoolCheck(text);
    if (checked === null) return console.log("promtool is not on the PATH: the text format was not linted");
    expect(checked, text).toEqual({ code: 0, output: "" });
  });

  it("has promtool refuse a malformed exposition (so the check above can fail)", async () => {
    const checked = await promtoolCheck("# TYPE propius_x_total counter\npropius_x_total{a=b} 1\n");
    if (checked === null) return console.log("promtool is not on the PATH: the text format was not linted");
    expect(checked.code).not.toBe(0);
  });
});
