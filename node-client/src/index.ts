export { runDevice, probeAttributes, privateAttributesOf, type DeviceOptions } from "./device.js";
export { DataFolder } from "./data-folder.js";
export { classOfFolders, imageFolderExamples, type ClassFolder } from "./image-folder.js";
export { decodeImage, type DecodedImage } from "./image-decode.js";
export { loadCredentials, saveCredentials } from "./credentials.js";
export { fileDigitsCache, defaultCacheDir } from "./digits-cache.js";
export { writeDigitFolder, type DigitFolderOptions, type WrittenDigit } from "./digit-folder.js";
export { eventLogLine, openEventLog, parseEventLog, type EventLog, type EventLogLine } from "./event-log.js";
// Opens WebSockets from Node, for push connections and live job events (`JobEventSubscription`).
export { nodeWebSocket } from "./web-socket.js";
