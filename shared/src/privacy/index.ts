export * from "./privacy.js";
export * from "./rdp-accountant.js";
export * from "./gaussian-noise.js";
