export { simulate, type SimulationInput, type SimulationProgress } from "./simulation.js";
export { workloadSchema, workloadJobs, type Workload, type SimJobSpec } from "./workload.js";
export { DEFAULT_DEVICE_MODEL, sampleDevices, taskSeconds, type DeviceModel, type DeviceSpecRecord, type DatasetSizeRecord, type SimDevice } from "./devices.js";
export { DEFAULT_STALL_S, type JobOutcome, type JobResult, type SimulationResult } from "./metrics.js";
export { bestCentral, bestJctAgainstFifo, bestRunWide, commonCompleted, describeRatio, jctRatio, runWideRatio, type Ratio } from "./comparison.js";
export { seededRandom } from "./random.js";
export { barChart, markdownReport, notesOf, outcomes, targets, type Target } from "./report.js";
