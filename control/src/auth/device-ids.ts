import { createHmac } from "node:crypto";

/**
 * A device's anonymous id in one job, as the job's owner sees it: 16 hex digits of HMAC-SHA256
 * over the job and client ids, keyed by a key derived from the token secret. Stable for the job,
 * different in every other job, and without the secret no list of guessed client ids leads back
 * to the device. Synchronous (nodejs_compat), like the tickets: the job names devices as it lists them.
 */
export type DeviceIds = (jobId: string, clientId: string) => string;

export function deviceIds(secret: string): DeviceIds {
  const key = createHmac("sha256", secret).update("propius device id v1").digest();
  return (jobId, clientId) => createHmac("sha256", key).update(`${jobId}\n${clientId}`).digest("hex").slice(0, 16);
}

/** Device ids whose secret is read at first use (a Durable Object is built before any request names it). */
export function lazyDeviceIds(secretOf: () => string): DeviceIds {
  let ids: DeviceIds | null = null;
  return (jobId, clientId) => (ids ??= deviceIds(secretOf()))(jobId, clientId);
}
