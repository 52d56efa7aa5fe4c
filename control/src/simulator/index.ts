export { simulate, type SimulationInput, type SimulationProgress } from "./simulation.js";
export { workloadSchema, workloadJobs, type Workload, type SimJobSpec } from "./workload.js";
export { DEFAULT_DEVICE_MODEL, sampleDevices, taskSeconds, type DeviceModel, type DeviceSpecRecord, type DatasetSizeRecord, type SimDevice } from "./devices.js";
export { type JobResult, type SimulationResult } from "./metrics.js";
export { seededRandom } from "./random.js";
export { barChart, markdownReport, notesOf, targets, type Target } from "./report.js";
