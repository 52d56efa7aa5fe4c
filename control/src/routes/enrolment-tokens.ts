import { createRoute, z } from "@hono/zod-openapi";
import { createEnrolmentTokenSchema, enrolmentTokenInfoSchema, enrolmentTokenListSchema, newEnrolmentTokenSchema } from "@propius/shared";
import { ownerAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, asOwner, errors, json, jsonRequest } from "../http/api-routes.js";
import { directoryOf } from "../directory/directory-client.js";
import { KEY_ID_PATTERN } from "../directory/api-keys.js";
import { unwrap } from "../job/reply.js";
import { hashKey, randomId } from "../auth/tokens.js";

const tags = ["keys"];
const AUTH_ERRORS = ["unauthorized", "key_revoked", "rate_limited"] as const;
const tokenParams = z.object({ tokenId: z.string().regex(KEY_ID_PATTERN).openapi({ param: { name: "tokenId", in: "path" }, description: "The token's id as `GET /v1/enrolment-tokens` lists it" }) });

const create = createRoute({
  tags, security: asOwner, method: "post", path: "/v1/enrolment-tokens", summary: "Make an enrolment token",
  description: "A device that enrols with it (`POST /v1/clients` with `enrolmentToken`) may take the tenant's jobs whose spec says `enrolment: \"token\"` (with `job`: that job only). Shown this once.",
  middleware: [bodyLimit(JSON_BODY_LIMIT), ownerAuth(), jsonBody()],
  request: jsonRequest(createEnrolmentTokenSchema),
  responses: { 201: json(newEnrolmentTokenSchema, "The token (shown this once) and its listing"), ...errors(...AUTH_ERRORS, "job_not_found", ...BODY_ERRORS) },
});
const list = createRoute({
  tags, security: asOwner, method: "get", path: "/v1/enrolment-tokens", summary: "The tenant's enrolment tokens",
  middleware: [ownerAuth()],
  responses: { 200: json(enrolmentTokenListSchema, "By id, revoked ones too, oldest first"), ...errors(...AUTH_ERRORS) },
});
const revoke = createRoute({
  tags, security: asOwner, method: "delete", path: "/v1/enrolment-tokens/{tokenId}", summary: "Revoke an enrolment token",
  description: "It enrols no more devices; the devices it enrolled keep their scope (the operator revokes a device itself).",
  middleware: [ownerAuth()],
  request: { params: tokenParams },
  responses: { 200: json(enrolmentTokenInfoSchema, "The token, revoked"), ...errors(...AUTH_ERRORS, "not_found", "validation_failed") },
});

/** A tenant's enrolment tokens: made, listed and revoked by the tenant. */
export const enrolmentTokenRoutes = apiRoutes()
  .openapi(create, async (c) => {
    const enrolmentToken = `et_${randomId(24)}`;
    const token = await unwrap(directoryOf(c.env).createEnrolmentToken(c.get("tenant"), await hashKey(enrolmentToken), c.req.valid("json").job ?? null));
    return c.json({ enrolmentToken, token }, 201);
  })
  .openapi(list, async (c) => c.json({ tokens: await directoryOf(c.env).listEnrolmentTokens(c.get("tenant")) }, 200))
  .openapi(revoke, async (c) => c.json(await unwrap(directoryOf(c.env).revokeEnrolmentToken(c.get("tenant"), c.req.valid("param").tokenId)), 200));
