import { PropiusError } from "@propius/shared";
import type { Env } from "../env.js";
import { clientManagerOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";

/**
 * How long this isolate trusts that a device is not revoked before it asks the device's
 * client-manager shard again. The shard itself refuses a revoked device at once (check-in, ping,
 * push connection, and it closes the open one); the routes that do not reach the shard (uploads,
 * reports, model reads, renewal) refuse it within this time in every isolate.
 */
export const REVOCATION_RECHECK_MS = 5_000;
const cleared = new Map<string, number>();
const CLEARED_LIMIT = 10_000;

/** Throws token_revoked when the operator has revoked `clientId`. */
export async function refuseRevoked(env: Pick<Env, "CLIENTS" | "CLIENT_SHARDS">, clientId: string, now: number): Promise<void> {
  const at = cleared.get(clientId);
  if (at !== undefined && now - at < REVOCATION_RECHECK_MS) return;
  if (await unwrap(clientManagerOf(env, clientId).revoked(clientId))) {
    cleared.delete(clientId);
    throw new PropiusError("token_revoked", "this device's token was revoked by the operator");
  }
  if (cleared.size >= CLEARED_LIMIT) cleared.delete(cleared.keys().next().value!);
  cleared.delete(clientId);
  cleared.set(clientId, now);
}

/** Forgets that `clientId` was seen unrevoked (the isolate that revokes it refuses it at once). */
export function forgetCleared(clientId: string): void {
  cleared.delete(clientId);
}
