import { createRoute } from "@hono/zod-openapi";
import { createTenantSchema, tenantKeySchema } from "@propius/shared";
import { adminAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, asAdmin, errors, json, jsonRequest } from "../http/api-routes.js";
import { directoryOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { hashKey, newApiKey } from "../auth/tokens.js";

const create = createRoute({
  tags: ["operator"], security: asAdmin, method: "post", path: "/v1/tenants", summary: "Create a tenant, or add an API key to one",
  middleware: [bodyLimit(JSON_BODY_LIMIT), adminAuth(), jsonBody()],
  request: jsonRequest(createTenantSchema),
  responses: { 201: json(tenantKeySchema, "The tenant and its new API key (shown once)"), ...errors("unauthorized", "not_configured", ...BODY_ERRORS) },
});

/** Operator routes: create a tenant, or add an API key to one. The key is shown once. */
export const tenantRoutes = apiRoutes().openapi(create, async (c) => {
  const { name } = c.req.valid("json");
  const apiKey = newApiKey(name);
  const result = await unwrap(directoryOf(c.env).addApiKey(name, await hashKey(apiKey)));
  return c.json({ tenant: result.tenant, created: result.created, apiKey }, 201);
});
