import type { Context, MiddlewareHandler } from "hono";
import { PropiusError } from "@propius/shared";
import type { AppEnv } from "../../http/app-env.js";
import { directoryOf } from "../../directory/directory-client.js";
import { hashKey, verifyClientToken } from "../../auth/tokens.js";

function bearer(c: Context): string {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new PropiusError("unauthorized", "send credentials as 'Authorization: Bearer <key or token>'");
  return match[1];
}

export function secret(value: string | undefined, name: string): string {
  if (!value) throw new PropiusError("not_configured", `the control plane has no ${name}; set it with 'wrangler secret put ${name}' or in .dev.vars`);
  return value;
}

/** Job owners: an API key scoped to one tenant. Sets `tenant`. */
export function ownerAuth(): MiddlewareHandler<AppEnv> {
  return async function authenticateOwner(c, next) {
    const key = bearer(c);
    const tenant = key.startsWith("pk_") ? await directoryOf(c.env).tenantForKey(await hashKey(key)) : null;
    if (!tenant) throw new PropiusError("unauthorized", "unknown API key");
    c.set("tenant", tenant);
    await next();
  };
}

/** Devices: a client token signed by the control plane. Sets `clientId`. */
export function clientAuth(): MiddlewareHandler<AppEnv> {
  return async function authenticateClient(c, next) {
    const clientId = await verifyClientToken(secret(c.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"), bearer(c));
    if (!clientId) throw new PropiusError("unauthorized", "invalid client token");
    c.set("clientId", clientId);
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
    const [given, wanted] = await Promise.all([hashKey(bearer(c)), hashKey(expected)]);
    if (given !== wanted) throw new PropiusError("unauthorized", "admin key required");
    await next();
  };
}
