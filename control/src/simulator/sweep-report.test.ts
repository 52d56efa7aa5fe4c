import { describe, expect, it } from "vitest";
import { DEFAULT_SWEEP, compareCell, type CellResult, type SweepOptions } from "./sweep.js";
import { sweepChart } from "./sweep-chart.js";
import { contendedLine, sweepJson, sweepMarkdown } from "./sweep-report.js";
import { summarizeContended, summarizeLevels, summarizeRatios } from "./sweep-summary.js";
import { result } from "./test-results.js";

/** A workload where static partitioning stalls on one job and FIFO on another, and one where every job completes. */
function cell(level: number, seed: number, scarce: boolean): CellResult {
  const results = scarce
    ? [result("fifo", 0.2, 1, [4000, null, 6000]), result("irs", 0.4, 1, [2000, 3000, 3000]), result("static-partition", 0.1, 1, [9000, 9000, null])]
    : [result("fifo", 0.3, 1, [2000, 2000, 2000]), result("irs", 0.3, 1, [1000, 1000, 2000]), result("static-partition", 0.3, 1, [3000, 3000, 3000])];
  const withoutAdmission = { ...results[1], wastedDeviceS: 36_000 };
  const aloneJctS = { "job-0": 1000, "job-1": 1000, "job-2": 2000 };
  return { level, seed, scarcity: { median: level, min: level / 2 }, aloneJctS, results, withoutAdmission, comparison: compareCell(results, withoutAdmission, [], aloneJctS) };
}
const cells = [cell(1, 1, true), cell(1, 2, false), cell(10, 1, false)];
const options: SweepOptions = { ...DEFAULT_SWEEP, levels: [1, 10], seeds: [1, 2], policies: ["fifo", "irs", "static-partition"], devices: 100, jobs: 3 };

describe("sweep report", () => {
  it("averages ratios geometrically over the workloads that define them, and counts them", () => {
    const ratio = (value: number | null, jobs: number) => ({ of: "fifo" as const, over: "irs" as const, value, scope: "common" as const, jobs, basis: "" });
    expect(summarizeRatios([ratio(2, 3), ratio(8, 2), ratio(null, 0), null])).toEqual({ geoMean: 4, defined: 2, of: 4, jobs: 5 });
    expect(summarizeRatios([ratio(null, 0)]).geoMean).toBeNull();
  });

  it("sums outcomes and wasted device-time per level", () => {
    const [scarce, plenty] = summarizeLevels(cells);
    expect(scarce.level).toBe(1);
    // fifo over irs: 5000 / 2500 on the two jobs both completed in seed 1, 2000 / 1333 in seed 2.
    expect(scarce.avgJct).toMatchObject({ defined: 2, of: 2, jobs: 5 });
    expect(scarce.avgJct.geoMean).toBeCloseTo(Math.sqrt(2 * 1.5), 9);
    expect(scarce.outcomes).toEqual([
      { policy: "fifo", completed: 5, waiting: 0, stalled: 1, failed: 0, running: 0, total: 6 },
      { policy: "irs", completed: 6, waiting: 0, stalled: 0, failed: 0, running: 0, total: 6 },
      { policy: "static-partition", completed: 5, waiting: 0, stalled: 1, failed: 0, running: 0, total: 6 },
    ]);
    expect(scarce.wastedWithoutAdmissionS).toBe(72_000);
    expect(plenty).toMatchObject({ level: 10, medianScarcity: 10, minScarcity: 5 });
  });

  it("counts the jobs whose devices can meet their demand that the best policy completed, and its stalled jobs", () => {
    const results = [result("fifo", 0.2, 1, [4000, null, null]), result("irs", 0.4, 1, [2000, 3000, null])];
    const ratios = [{ id: "job-0", ratio: 2 }, { id: "job-1", ratio: 1 }, { id: "job-2", ratio: 0.6 }];
    expect(compareCell(results, null, ratios)).toMatchObject({ best: "irs", feasibleJobs: 2, feasibleCompleted: 2, stalledJobs: 1 });
    expect(compareCell([results[0]], null, ratios)).toMatchObject({ best: "fifo", feasibleJobs: 2, feasibleCompleted: 1, stalledJobs: 2 });
  });

  it("takes the p95 JCT of the policy best for average JCT, even when another policy's p95 is better", () => {
    // srsf: the lower average (2000 against fifo's 3000) but the worse p95 (4000 against fifo's 3500); irs: neither.
    const results = [result("fifo", 0.2, 1, [2500, 3000, 3500]), result("srsf", 0.2, 1, [1000, 1000, 4000]), result("irs", 0.2, 1, [2500, 3000, 3600])];
    const c = compareCell(results, null);
    expect(c.avgJct).toMatchObject({ over: "srsf", value: 1.5 });
    expect(c.p95Jct).toMatchObject({ of: "fifo", over: "srsf", value: 3500 / 4000 });
  });

  it("judges the contended workloads by the median average JCT ratio and by how many keep p95 no worse than FIFO's", () => {
    // Level 1: 2.0x (seed 1) and 1.5x (seed 2), p95 2.0x and 1.0x; level 10 is outside 1 to 4.
    const summary = summarizeContended(cells);
    expect(summary).toMatchObject({ from: 1, to: 4, workloads: 2, p95NoWorse: 2, p95Defined: 2 });
    expect(summary.medianAvgJct).toBeCloseTo((2 + 1.5) / 2, 9);
    expect(summary.minP95Jct).toBeCloseTo(1, 9);
    expect(contendedLine(summary)).toBe(
      "Where jobs contend (scarcity 1 to 4, 2 workloads): the median of the best central policy's average JCT against FIFO's is 1.75x; that policy's p95 JCT is no worse than FIFO's on 2 of 2 (the lowest FIFO / best p95 ratio: 1.00x). Target: a median of at least 1.30x, and p95 no worse on every workload: reached.",
    );
    expect(contendedLine({ ...summary, medianAvgJct: 1.29 })).toMatch(/: not reached\.$/);
    expect(contendedLine({ ...summary, p95NoWorse: 1 })).toMatch(/: not reached\.$/);
    expect(contendedLine(summarizeContended(cells, 2, 4))).toBe("Where jobs contend (scarcity 2 to 4, 0 workloads): none in this sweep.");
  });

  it("states every ratio with the jobs it rests on, and every workload's outcomes", () => {
    const md = sweepMarkdown({ cells, options, command: "npm run sweep", machine: "nproc 2", date: "2026-01-01", totalWallS: 5, notes: null });
    expect(md).toContain("on 2026-01-01 (nproc 2;");
    expect(md).toContain("| 1 | 1.00 / 0.50 | 2.00x (2 of 2) | 2.24x (2 of 2, over 5 jobs) | 1.73x (2 of 2, over 5 jobs) | 1.41x (2 of 2, over 5 jobs) | 0 / 20 | 0 of 0 | 0 |");
    expect(md).toContain("| 1 | 1 | 1.00 / 0.50 | 2, 3, 2 | 4.00x (irs) | 3.33x (2 jobs) | 2.00x (irs, 2 jobs) |");
    expect(md).toContain("| 1 | 5 / 0 / 1 / 0 / 0 | 6 / 0 / 0 / 0 / 0 | 5 / 0 / 1 / 0 / 0 |");
  });

  it("says a ratio is undefined, without naming a policy, when no job was completed by both", () => {
    const none = [result("fifo", 0.1, 1, [null, null]), result("irs", 0.2, 1, [10, null]), result("static-partition", 0, 1, [null, null])];
    const md = sweepMarkdown({ cells: [{ ...cell(0.5, 1, true), results: none, comparison: compareCell(none, null) }], options, command: "", machine: "", date: "", totalWallS: 1, notes: null });
    expect(md).toContain("| 0.5 | 1 | 0.50 / 0.25 | 0, 1, 0 | - | - (0 jobs) | - (0 jobs) | - (0 jobs) | irs | 0 / - |");
  });

  it("writes each job of the JSON on one line, and it parses back", () => {
    const text = sweepJson({ cells });
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify({ cells })));
    expect(text).toContain('{ "id": "job-1", "arrivalS": 0, "completedS": null, "jctS": null, "roundsDone": 0, "attempts": 1, "outcome": "stalled", "lastClosedS": 0, "failure": null }');
  });

  it("draws the three ratios and both wasted device-time series against scarcity", () => {
    const svg = sweepChart(summarizeLevels(cells));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(5);
    expect(svg.match(/<circle/g)).toHaveLength(10);
    expect(svg).toContain("average JCT: FIFO / best");
  });
});
