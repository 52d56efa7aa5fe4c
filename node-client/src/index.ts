export { runDevice, probeAttributes, privateAttributesOf, type DeviceOptions } from "./device.js";
export { loadCsvFolder } from "./csv-data.js";
export { loadCredentials, saveCredentials } from "./credentials.js";
export { fileDigitsCache, defaultCacheDir } from "./digits-cache.js";
