import { describe, expect, it } from "vitest";
import { bestCentral, bestJctAgainstFifo, commonCompleted, describeRatio, jctOver, jctRatio, runWideRatio } from "./comparison.js";
import { result } from "./test-results.js";

const fifo = result("fifo", 0.2, 5, [1000, 3000, null, 8000]);
const irs = result("irs", 0.5, 6, [500, null, 2000, 2000]);
const srsf = result("srsf", 0.25, 5, [900, 2000, 3000, 8000]);

describe("comparison of runs", () => {
  it("takes the jobs every run completed", () => {
    expect(commonCompleted([fifo, irs])).toEqual(["job-0", "job-3"]);
    expect(commonCompleted([fifo, irs, srsf])).toEqual(["job-0", "job-3"]);
    expect(commonCompleted([fifo, result("irs", 0, 0, [null, null, null, null])])).toEqual([]);
  });

  it("averages JCTs over the given jobs only", () => {
    expect(jctOver(irs, ["job-0", "job-3"])).toEqual({ avgS: 1250, p95S: 2000 });
    expect(jctOver(fifo, ["job-0", "job-3"])).toEqual({ avgS: 4500, p95S: 8000 });
  });

  it("compares JCTs over the jobs both runs completed, and says how many", () => {
    const ratio = jctRatio(fifo, irs, "avgS");
    expect(ratio).toMatchObject({ of: "fifo", over: "irs", value: 4500 / 1250, scope: "common", jobs: 2 });
    expect(describeRatio(ratio, "average JCT")).toBe("fifo / irs average JCT, over the 2 jobs both completed (3/4 and 3/4 jobs completed)");
    expect(jctRatio(fifo, irs, "p95S").value).toBe(4);
  });

  it("gives no JCT ratio when the runs completed no job in common", () => {
    const none = result("irs", 0.3, 6, [null, 100, 100, null]);
    expect(jctRatio(result("fifo", 0.2, 5, [100, null, null, null]), none, "avgS")).toMatchObject({ value: null, jobs: 0 });
  });

  it("keeps run-wide metrics run-wide, with no ratio over a zero", () => {
    expect(runWideRatio(irs, fifo, (r) => r.utilization)).toMatchObject({ value: 2.5, scope: "run", jobs: 2 });
    expect(runWideRatio(irs, result("static-partition", 0, 0, [null]), (r) => r.utilization).value).toBeNull();
  });

  it("picks the central policy that beats FIFO most, each over its own common jobs", () => {
    // srsf / fifo over jobs 0, 1, 3: (1000 + 3000 + 8000) / (900 + 2000 + 8000) = 1.10; irs over jobs 0, 3: 3.6.
    expect(bestJctAgainstFifo([fifo, srsf, irs], "avgS")).toMatchObject({ over: "irs", jobs: 2, value: 3.6 });
    expect(bestJctAgainstFifo([srsf, irs], "avgS")).toBeNull();
  });

  it("ranks central runs by jobs completed, then average JCT, leaving baselines out", () => {
    expect(bestCentral([fifo, irs, srsf])?.policy).toBe("srsf");
    // Both completed 3 of 4: irs in 1500 s on average, fifo in 4000 s.
    expect(bestCentral([fifo, irs])?.policy).toBe("irs");
    expect(bestCentral([result("irs", 0.9, 1, [900, null]), result("random", 0.1, 1, [800, null])])?.policy).toBe("random");
    expect(bestCentral([result("static-partition", 1, 1, [1, 1, 1, 1])])).toBeNull();
  });
});
