export * from "./fixed-point.js";
export * from "./prg.js";
export * from "./keys.js";
export * from "./masking.js";
export * from "./device-round.js";
