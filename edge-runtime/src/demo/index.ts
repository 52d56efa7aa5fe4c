/** The demo job: real MNIST digits split non-IID across clients, a small classifier and its plan. */
export { loadDigits, useDigitsCache, encodeDigits, decodeDigits, CLASSES, PIXELS, type Digits, type DigitsCache } from "./mnist.js";
export { mulberry32, permutation, shuffle, type Random } from "./random.js";
export { splitByLabel, DEFAULT_PRIMARY_FRACTION, DEFAULT_TEST_SIZE, type ShardSplit, type Split, type SplitOptions } from "./partition.js";
export { demoShard, demoTestSet, demoTrainingSet, describeShard, type DemoShardOptions, type ShardInfo } from "./demo-data.js";
export { demoModel, demoPlan, DEMO_INIT_SEED, HIDDEN_UNITS, type DemoModel } from "./model.js";
export { demoCnnModel, CNN_DROPOUT, CNN_FILTERS, CNN_HIDDEN_UNITS, CNN_INPUT_SHAPE, CNN_POOL } from "./cnn-model.js";
export { demoAggregation } from "./aggregation.js";
export { simulateFedAvg, type RoundReport, type SimulationOptions, type SimulationResult } from "./simulation.js";
export { trainCentralized, type CentralizedOptions, type EpochReport } from "./centralized.js";
export { linearModel } from "./linear-model.js";
