export * from "./errors.js";
export * from "./tensors.js";
export * from "./weights-format.js";
export * from "./fedavg.js";
export * from "./job-spec.js";
export * from "./protocol.js";
export * from "./constraints.js";
export * from "./strategies/index.js";
