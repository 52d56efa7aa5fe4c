export { simulate, type SimulationInput, type SimulationProgress } from "./simulation.js";
export { workloadSchema, workloadJobs, type Workload, type WorkloadProfile, type SimJobSpec } from "./workload.js";
export { DEFAULT_DEVICE_MODEL, sampleDevices, taskSeconds, trainSeconds, type DeviceModel, type DeviceSpecRecord, type DatasetSizeRecord, type SimDevice } from "./devices.js";
export { quantile, type JobResult, type SimulationResult } from "./metrics.js";
export { seededRandom } from "./random.js";
export { barChart, markdownReport, notesOf, resultTable, targets, targetTable, type Target } from "./report.js";
