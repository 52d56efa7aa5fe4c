/** Local training for edge clients: backend choice, model (de)serialisation, training, evaluation. */
export { BackendRegistry, initTraining, trainingBackends, type BackendSetup, type InitTrainingOptions } from "./backend.js";
export { checkLocalData, featureSize, gatherRows, labelIndices, type LocalData } from "./local-data.js";
export { buildModel, getFlatWeights, setFlatWeights, weightSpecsOf, type ModelSource } from "./model.js";
export {
  plannedSteps,
  trainLocal,
  type LocalTrainingPlan,
  type TrainLocalOptions,
  type TrainProgress,
  type TrainResult,
} from "./train.js";
export { evaluate, type EvaluateOptions, type Evaluation } from "./evaluate.js";
export { benchmarkActiveBackend, probeBackends, type BackendProbe, type ProbeOptions, type ProbeResult } from "./probe.js";
export { countCsvExamples, csvExamplesOf, isCsvHeader, parseCsvExamples, type CsvFile, type CsvOptions } from "./csv-examples.js";
export { classIndexOf, imageToExample, type ImageFormat } from "./image-examples.js";
export { ConvertedExamples, FixedExamples, formatKey, type Converted, type ExampleSource, type JobExamples, type TaskInput } from "./example-source.js";
export { checkFitsJob } from "./fits-job.js";
export { modelExampleShape } from "./example-shape.js";
export { evaluateHeldOut, splitHoldout, type HoldoutSplit } from "./holdout.js";
