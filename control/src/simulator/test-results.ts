import type { PolicyName } from "../scheduling/policies/index.js";
import type { JobResult, SimulationResult } from "./metrics.js";

/** A run's result, for the report and comparison tests; `jcts` are its jobs' completion times, null for a job it did not complete (stalled). */
export function result(policy: PolicyName, utilization: number, bindingThroughput: number, jcts: (number | null)[]): SimulationResult {
  const jobs: JobResult[] = jcts.map((jctS, i) => ({
    id: `job-${i}`, arrivalS: 0, completedS: jctS, jctS, roundsDone: jctS === null ? 0 : 1, attempts: 1,
    outcome: jctS === null ? "stalled" : "completed", lastClosedS: jctS ?? 0, failure: null,
  }));
  const done = jcts.filter((j) => j !== null);
  return {
    policy, seed: 1, devices: 10, makespanS: 1000, stalled: false, jobsCompleted: done.length, jobsStalled: jcts.length - done.length, jobsFailed: 0,
    jobsRunning: 0, jobsWaiting: 0, jobsTotal: jcts.length, utilization, usefulDeviceS: 1, wastedDeviceS: 0, availableDeviceS: 1,
    avgJctS: done.reduce((a, b) => a + b, 0) / Math.max(1, done.length), p95JctS: Math.max(0, ...done), bindings: 10, bindingThroughput,
    refusedHandshakes: 0, checkIns: 20, avgSchedulingDelayS: 1, roundsDone: 4, retries: 0, droppedTasks: 0, abandonedTasks: 0, releasedTasks: 0, overAssignments: 0,
    eligibilityViolations: 0, doubleBindings: 0, wallTimeS: 1, jobs,
  };
}
