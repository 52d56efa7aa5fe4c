import { describe, expect, it } from "vitest";
import type { PolicyName } from "../scheduling/policies/index.js";
import type { SimulationResult } from "./metrics.js";
import { NOTES_END, NOTES_START, barChart, markdownReport, notesOf, targets } from "./report.js";

const result = (policy: PolicyName, utilization: number, bindingThroughput: number, avgJctS: number): SimulationResult => ({
  policy, seed: 1, devices: 10, makespanS: 1000, stalled: false, jobsCompleted: 2, jobsTotal: 2, utilization, usefulDeviceS: 1, wastedDeviceS: 0,
  availableDeviceS: 1, avgJctS, p95JctS: avgJctS, bindings: 10, bindingThroughput, refusedHandshakes: 0, checkIns: 20,
  avgSchedulingDelayS: 1, roundsDone: 4, retries: 0, droppedTasks: 0, abandonedTasks: 0, releasedTasks: 0, overAssignments: 0,
  eligibilityViolations: 0, doubleBindings: 0, wallTimeS: 1, jobs: [],
});

const results = [
  result("fifo", 0.2, 5, 4000),
  result("irs", 0.3, 6, 2000),
  result("static-partition", 0.1, 4, 9000),
  result("client-random", 0.25, 2, 5000),
];

describe("simulation report", () => {
  it("compares the best central policy per metric with the baselines and FIFO", () => {
    const list = targets(results, 100);
    expect(list.map((t) => [t.compared, Number(t.value?.toFixed(6)), t.reached])).toEqual([
      ["irs / static-partition utilization", 3, true],
      ["irs / client-random binding throughput", 3, true],
      ["fifo / irs average JCT", 2, true],
      ["600 s / wall time", 6, true],
    ]);
  });

  it("says a claim is not reached when a baseline did better, and leaves it out when its run is missing", () => {
    const list = targets([result("fifo", 0.1, 1, 1000), result("client-random", 0.1, 1, 1000)], 700);
    expect(list.map((t) => t.reached)).toEqual([false, false, false, false]);
    expect(list[0].value).toBeNull();
    expect(list[1].value).toBe(1);
  });

  it("keeps the hand-written notes of the previous report", () => {
    const notes = `${NOTES_START}\nWhy the numbers are what they are.\n${NOTES_END}`;
    const first = markdownReport({ results, setup: ["one line"], command: "npm run simulate", totalWallS: 12, notes: null });
    expect(first).toContain(NOTES_START);
    const edited = first.replace(`${NOTES_START}\n${NOTES_END}`, notes);
    const second = markdownReport({ results, setup: ["one line"], command: "npm run simulate", totalWallS: 13, notes: notesOf(edited) });
    expect(second).toContain("Why the numbers are what they are.");
    expect(second).toContain("| irs | 0.3000 | 0.56 |");
  });

  it("draws one bar per policy in each of three panels", () => {
    const svg = barChart(results);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<rect x=/g)).toHaveLength(3 * results.length);
    expect(svg).toContain("client-random");
  });
});
