export * from "./errors.js";
export * from "./tensors.js";
export * from "./weights-format.js";
export * from "./fedavg.js";
export * from "./job-spec.js";
export * from "./protocol.js";
export * from "./responses.js";
export * from "./round-timings.js";
export * from "./constraints.js";
export * from "./strategies/index.js";
export * from "./robust/index.js";
export * from "./privacy/index.js";
// Secure aggregation's job option and wire format; the protocol itself is `@propius/shared/secagg`.
export * from "./secagg/secure-spec.js";
export * from "./secagg/secure-wire.js";
export * from "./input-format.js";
export * from "./model-layers.js";
export * from "./optimizer.js";
export * from "./strict-object.js";
export * from "./json-depth.js";
// The pieces an aggregator needs to decode a delta as it streams in (control/src/aggregation/delta-stream.ts).
export { BYTES_PER_VALUE, payloadByteLength } from "./codecs/index.js";
export { halfBitsToFloat } from "./codecs/fp16.js";
export { checkScales } from "./codecs/int8.js";
export * from "./push.js";
export * from "./job-events.js";
export * from "./job-devices.js";
export * from "./enrolment.js";
