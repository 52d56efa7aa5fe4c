import type { Context } from "hono";
import { createRoute, z } from "@hono/zod-openapi";
import { PropiusError } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { apiRoutes, asAdmin, asOwner, errors } from "../http/api-routes.js";
import { bearerToken, tenantOfKey } from "../middleware/auth/index.js";
import { hashKey, verifyClientToken } from "../auth/tokens.js";
import { directoryOf } from "../directory/directory-client.js";
import { TEXT_FORMAT, writeText } from "../metrics/prometheus-text.js";

/**
 * `GET /metrics` in the Prometheus text format, read from the directory's metrics ledger in one
 * call (no job object is reached): with the admin key every job's series and the platform's, with
 * a tenant's API key that tenant's jobs' only (see docs/api.md).
 */
const metricsRoute = createRoute({
  tags: ["operator"], security: [...asAdmin, ...asOwner], method: "get", path: "/metrics", summary: "Metrics in the Prometheus text format",
  description: "With the admin key: every job's series and the platform's; with a tenant's API key: that tenant's jobs' (see docs/api.md for the series).",
  responses: { 200: { description: "The exposition", content: { [TEXT_FORMAT]: { schema: z.string() } } }, ...errors("unauthorized", "key_revoked", "forbidden") },
});

export const metricsRoutes = apiRoutes().openapi(metricsRoute, async (c) => {
  const tenant = await metricsReader(c);
  const exposition = await directoryOf(c.env).exposition(tenant);
  return c.text(writeText(exposition), 200, { "content-type": TEXT_FORMAT, "cache-control": "no-store" });
});

/**
 * Who scrapes: null for the operator (the admin key), else the tenant whose API key it is. No
 * credentials, an unknown key and a wrong admin key are `401 unauthorized`; a device's token,
 * genuine but not a reader's, is `403 forbidden`.
 */
async function metricsReader(c: Context<AppEnv>): Promise<string | null> {
  const token = bearerToken(c);
  if (!token) throw new PropiusError("unauthorized", "send an API key or the admin key as 'Authorization: Bearer <key>'");
  if (token.startsWith("pk_")) return tenantOfKey(c.env, token);
  const admin = c.env.PROPIUS_ADMIN_KEY;
  if (admin) {
    const [given, wanted] = await Promise.all([hashKey(token), hashKey(admin)]);
    if (given === wanted) return null;
  }
  const secret = c.env.PROPIUS_TOKEN_SECRET;
  if (secret && (await verifyClientToken(secret, token, Date.now())) !== null) throw new PropiusError("forbidden", "a device token cannot read metrics; use an API key or the admin key");
  throw new PropiusError("unauthorized", "unknown key: use an API key or the admin key");
}
