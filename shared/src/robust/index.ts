export * from "./robustness.js";
export * from "./clipping.js";
export * from "./estimators.js";
export * from "./capacity.js";
