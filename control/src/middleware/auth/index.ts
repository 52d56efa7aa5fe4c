import type { Context, MiddlewareHandler } from "hono";
import { PropiusError } from "@propius/shared";
import type { AppEnv } from "../../http/app-env.js";
import { directoryOf } from "../../directory/directory-client.js";
import { hashKey, verifyClientToken } from "../../auth/tokens.js";
import { refuseRevoked } from "../../auth/revocation-check.js";
import { spend, spendAddress } from "../rate-limit/index.js";

/** The credentials in `Authorization: Bearer ...`, or null. */
export function bearerToken(c: Context): string | null {
  return /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1] ?? null;
}

function bearer(c: Context<AppEnv>): string {
  const token = bearerToken(c);
  if (!token) throw new PropiusError("unauthorized", "send credentials as 'Authorization: Bearer <key or token>'");
  return token;
}

/** A refusal of the caller's credentials, counted against its address (rate_limited instead once the address has spent its limit). */
function refused(c: Context<AppEnv>, error: PropiusError): PropiusError {
  try {
    spendAddress(c.env, c.req);
  } catch (limited) {
    return limited as PropiusError;
  }
  return error;
}

/** Runs a credential check; a refusal of the credentials themselves counts against the caller's address. */
export async function countingRefusals<T>(c: Context<AppEnv>, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (error) {
    if (error instanceof PropiusError && CREDENTIAL_CODES.has(error.code)) throw refused(c, error);
    throw error;
  }
}
const CREDENTIAL_CODES = new Set(["unauthorized", "key_revoked", "token_expired", "token_revoked"]);

/**
 * The device a client token was issued to: unauthorized when it is malformed or forged,
 * token_expired past its expiry (the device renews it before then, or enrols again after),
 * token_revoked once the operator has revoked the device.
 */
export async function clientOf(env: AppEnv["Bindings"], token: string, options: { shardChecks?: boolean } = {}): Promise<string> {
  const now = Date.now();
  const check = await verifyClientToken(secret(env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"), token, now);
  if (check === "expired") throw new PropiusError("token_expired", "this device token has expired: renew it before it expires (POST /v1/clients/token), or enrol again");
  if (!check) throw new PropiusError("unauthorized", "invalid client token");
  spend(env, "device", check.clientId, now);
  // A route whose call goes to the device's client-manager shard anyway leaves the check to it.
  if (!options.shardChecks) await refuseRevoked(env, check.clientId, now);
  return check.clientId;
}

export function secret(value: string | undefined, name: string): string {
  if (!value) throw new PropiusError("not_configured", `the control plane has no ${name}; set it with 'wrangler secret put ${name}' or in .dev.vars`);
  return value;
}

/**
 * The tenant an API key (`pk_...`) belongs to; key_revoked for a revoked key, unauthorized for an
 * unknown one. Looked up on every request (no memo), so that a revoked key is refused at once.
 */
export async function tenantOfKey(env: AppEnv["Bindings"], key: string): Promise<string> {
  const keyHash = await hashKey(key);
  // Limited by the key presented, before the directory is asked: a flood with one key stops here.
  if (key.startsWith("pk_")) spend(env, "key", keyHash);
  const found = key.startsWith("pk_") ? await directoryOf(env).lookupKey(keyHash) : null;
  if (found && "revoked" in found) throw new PropiusError("key_revoked", "this API key was revoked; use another of the tenant's keys");
  if (!found) throw new PropiusError("unauthorized", "unknown API key");
  return found.tenant;
}

/** Job owners: an API key scoped to one tenant. Sets `tenant`. */
export function ownerAuth(): MiddlewareHandler<AppEnv> {
  return async function authenticateOwner(c, next) {
    c.set("tenant", await countingRefusals(c, () => tenantOfKey(c.env, bearer(c))));
    await next();
  };
}

/**
 * Devices: a client token signed by the control plane. Sets `clientId`. `shardChecks`: the route
 * calls the device's client-manager shard, which refuses a revoked device itself (no second call).
 */
export function clientAuth(options: { shardChecks?: boolean } = {}): MiddlewareHandler<AppEnv> {
  return async function authenticateClient(c, next) {
    c.set("clientId", await countingRefusals(c, () => clientOf(c.env, bearer(c), options)));
    await next();
  };
}

/** Either a client token or an owner's API key (for reading models). */
export function clientOrOwnerAuth(): MiddlewareHandler<AppEnv> {
  const owner = ownerAuth();
  const client = clientAuth();
  return async function authenticateAny(c, next) {
    return bearer(c).startsWith("pk_") ? owner(c, next) : client(c, next);
  };
}

/** The operator: the admin key from the Worker's secrets. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function authenticateAdmin(c, next) {
    const expected = secret(c.env.PROPIUS_ADMIN_KEY, "PROPIUS_ADMIN_KEY");
    await countingRefusals(c, async () => {
      const [given, wanted] = await Promise.all([hashKey(bearer(c)), hashKey(expected)]);
      if (given !== wanted) throw new PropiusError("unauthorized", "admin key required");
    });
    await next();
  };
}
