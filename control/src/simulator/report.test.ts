import { describe, expect, it } from "vitest";
import { NOTES_END, NOTES_START, barChart, markdownReport, notesOf, targets } from "./report.js";
import { result } from "./test-results.js";

const results = [
  result("fifo", 0.2, 5, [4000, 4000]),
  result("irs", 0.3, 6, [2000, 2000]),
  result("static-partition", 0.1, 4, [9000, 9000]),
  result("client-random", 0.25, 2, [5000, 5000]),
];

describe("simulation report", () => {
  it("compares the best central policy per metric with the baselines and FIFO", () => {
    const list = targets(results, 100);
    expect(list.map((t) => [t.compared, Number(t.value?.toFixed(6)), t.reached])).toEqual([
      ["irs / static-partition utilization, run-wide (2/2 and 2/2 jobs completed)", 3, true],
      ["irs / client-random binding throughput, run-wide (2/2 and 2/2 jobs completed)", 3, true],
      ["fifo / irs average JCT, over the 2 jobs both completed (2/2 and 2/2 jobs completed)", 2, true],
      ["fifo / irs p95 JCT, over the 2 jobs both completed (2/2 and 2/2 jobs completed)", 2, false],
      ["600 s / wall time", 6, true],
    ]);
  });

  it("says a claim is not reached when a baseline did better, and leaves it out when its run is missing", () => {
    const list = targets([result("fifo", 0.1, 1, [1000]), result("client-random", 0.1, 1, [1000])], 700);
    expect(list.map((t) => t.reached)).toEqual([false, false, false, false, false]);
    expect(list[0]).toMatchObject({ value: null, compared: "needs static-partition and a central policy" });
    expect(list[1].value).toBe(1);
  });

  it("still measures a partial run, over the jobs both policies completed, and says how many", () => {
    const partial = [result("fifo", 0.2, 5, [4000, null, 6000]), result("irs", 0.3, 6, [2000, 3000, null]), result("static-partition", 0.1, 4, [null, null, null])];
    const [utilization, , average] = targets(partial, 100);
    expect(average).toMatchObject({ value: 2, compared: "fifo / irs average JCT, over the 1 job both completed (2/3 and 2/3 jobs completed)", reached: true });
    expect(utilization.compared).toBe("irs / static-partition utilization, run-wide (2/3 and 0/3 jobs completed)");
    expect(utilization.value).toBeCloseTo(3, 9);
    // No JCT for a run that completed nothing, rather than 0.
    expect(markdownReport({ results: partial, setup: [], command: "npm run simulate", totalWallS: 1, notes: null })).toContain("| static-partition | 0.1000 | - | - |");
  });

  it("keeps the hand-written notes of the previous report", () => {
    const notes = `${NOTES_START}\nWhy the numbers are what they are.\n${NOTES_END}`;
    const first = markdownReport({ results, setup: ["one line"], command: "npm run simulate", totalWallS: 12, notes: null });
    expect(first).toContain(NOTES_START);
    const edited = first.replace(`${NOTES_START}\n${NOTES_END}`, notes);
    const second = markdownReport({ results, setup: ["one line"], command: "npm run simulate", totalWallS: 13, notes: notesOf(edited) });
    expect(second).toContain("Why the numbers are what they are.");
    expect(second).toContain("| irs | 0.3000 | 0.56 |");
    expect(second).toContain("| 0 | 2 / 0 / 0 / 0 / 0 | 0.28 |");
  });

  it("draws one bar per policy in each of three panels", () => {
    const svg = barChart(results);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(3 * results.length);
    expect(svg).toContain("client-random");
  });
});
