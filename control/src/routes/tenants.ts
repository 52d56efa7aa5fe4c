import { Hono } from "hono";
import { createTenantSchema } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { adminAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { readJson } from "../middleware/validate/index.js";
import { directoryOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { hashKey, newApiKey } from "../auth/tokens.js";

/** Operator routes: create a tenant, or add an API key to one. The key is shown once. */
export const tenantRoutes = new Hono<AppEnv>().post("/v1/tenants", bodyLimit(JSON_BODY_LIMIT), adminAuth(), async (c) => {
  const { name } = await readJson(c, createTenantSchema);
  const apiKey = newApiKey(name);
  const result = await unwrap(directoryOf(c.env).addApiKey(name, await hashKey(apiKey)));
  return c.json({ tenant: result.tenant, created: result.created, apiKey }, 201);
});
