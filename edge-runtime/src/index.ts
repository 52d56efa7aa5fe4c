export * from "./protocol/http.js";
export * from "./protocol/device-client.js";
export * from "./protocol/owner-client.js";
export * from "./task-loop.js";
export * from "./protocol/reachable.js";
export * from "./task-failure.js";
export * from "./protocol/push-session.js";
export * from "./check-in-channel.js";
