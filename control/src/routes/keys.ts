import { createRoute, z } from "@hono/zod-openapi";
import { apiKeyInfoSchema, apiKeyListSchema, newApiKeySchema } from "@propius/shared";
import { ownerAuth } from "../middleware/auth/index.js";
import { apiRoutes, asOwner, errors, json } from "../http/api-routes.js";
import { directoryOf } from "../directory/directory-client.js";
import { KEY_ID_PATTERN } from "../directory/api-keys.js";
import { unwrap } from "../job/reply.js";
import { hashKey, newApiKey } from "../auth/tokens.js";

const tags = ["keys"];
const owner = { tags, security: asOwner, middleware: [ownerAuth()] };
const keyParams = z.object({
  keyId: z.string().regex(KEY_ID_PATTERN).openapi({ param: { name: "keyId", in: "path" }, description: "The key's id as `GET /v1/keys` lists it", example: "3f9a0c1d2e4b" }),
});
const AUTH_ERRORS = ["unauthorized", "key_revoked", "rate_limited"] as const;

const list = createRoute({
  ...owner, method: "get", path: "/v1/keys", summary: "The tenant's API keys",
  description: "Every key the tenant has had, revoked ones too, oldest first; by id only (a raw key is shown once, when it is made).",
  responses: { 200: json(apiKeyListSchema, "The tenant's keys"), ...errors(...AUTH_ERRORS) },
});
const create = createRoute({
  ...owner, method: "post", path: "/v1/keys", summary: "Make another API key for the tenant",
  responses: { 201: json(newApiKeySchema, "The new key (shown this once) and its listing"), ...errors(...AUTH_ERRORS) },
});
const revoke = createRoute({
  ...owner, method: "delete", path: "/v1/keys/{keyId}", summary: "Revoke an API key",
  description: "Refused at once from then on (`key_revoked`). The tenant's last working key cannot be revoked (`last_key`): rotate it instead.",
  request: { params: keyParams },
  responses: { 200: json(apiKeyInfoSchema, "The key, revoked"), ...errors(...AUTH_ERRORS, "key_not_found", "last_key", "validation_failed") },
});
const rotate = createRoute({
  ...owner, method: "post", path: "/v1/keys/{keyId}/rotate", summary: "Replace an API key by a new one",
  description: "In one step: a new key is made (shown this once) and this one is revoked.",
  request: { params: keyParams },
  responses: { 201: json(newApiKeySchema, "The new key and the one it replaced"), ...errors(...AUTH_ERRORS, "key_not_found", "validation_failed") },
});

/** A tenant's API keys: listed by id, made, revoked and rotated by the tenant itself. */
export const keyRoutes = apiRoutes()
  .openapi(list, async (c) => c.json({ keys: await directoryOf(c.env).listKeys(c.get("tenant")) }, 200))
  .openapi(create, async (c) => {
    const apiKey = newApiKey(c.get("tenant"));
    return c.json({ apiKey, key: await directoryOf(c.env).createKey(c.get("tenant"), await hashKey(apiKey)) }, 201);
  })
  .openapi(revoke, async (c) => c.json(await unwrap(directoryOf(c.env).revokeKey(c.get("tenant"), c.req.valid("param").keyId)), 200))
  .openapi(rotate, async (c) => {
    const apiKey = newApiKey(c.get("tenant"));
    const rotated = await unwrap(directoryOf(c.env).rotateKey(c.get("tenant"), c.req.valid("param").keyId, await hashKey(apiKey)));
    return c.json({ apiKey, ...rotated }, 201);
  });
