import { createRoute } from "@hono/zod-openapi";
import { PROTOCOL_VERSION, PropiusError, enrolmentScope, checkInSchema, checkInReplySchema, enrolmentSchema, pingReplySchema, pingSchema, registerClientSchema } from "@propius/shared";
import { clientAuth, secret } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { addressLimit } from "../middleware/rate-limit/index.js";
import { BODY_ERRORS, DEVICE_AUTH_ERRORS, apiRoutes, named, asDevice, errors, json, jsonRequest } from "../http/api-routes.js";
import { deviceTokenTtlMs, hashKey, issueClientToken, randomId } from "../auth/tokens.js";
import { clientManagerOf, directoryOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import type { AppEnv } from "../http/app-env.js";

const tags = ["devices"];

const enrol = createRoute({
  tags, method: "post", path: "/v1/clients", summary: "Enrol a device",
  description: "Anyone may enrol; the token is what the device's later calls carry. With an `enrolmentToken` from a job's owner, the device may also take that owner's jobs that ask for one (`enrolment: \"token\"`).",
  middleware: [addressLimit(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: jsonRequest(registerClientSchema),
  responses: { 201: json(enrolmentSchema, "The device's id and token (shown once)"), ...errors(...BODY_ERRORS, "enrolment_token_invalid", "rate_limited", "not_configured") },
});
const renew = createRoute({
  tags, security: asDevice, method: "post", path: "/v1/clients/token", summary: "Renew the device's token",
  description: "A new token for the same device (its binding, tickets and job stay), with a new expiry. The token sent must not have expired yet: a device renews before then, and enrols again after.",
  middleware: [clientAuth()],
  responses: { 201: json(enrolmentSchema, "The device's id and new token (shown once)"), ...errors(...DEVICE_AUTH_ERRORS, "not_configured") },
});
const checkIn = createRoute({
  tags, security: asDevice, method: "post", path: "/v1/checkin", summary: "Ask for a task",
  description: "The device's public attributes go to its client-manager shard, which binds it to a job, offers jobs with private constraints, or says when to come back (also in `Retry-After`).",
  middleware: [bodyLimit(JSON_BODY_LIMIT), clientAuth({ shardChecks: true }), jsonBody()],
  request: jsonRequest(checkInSchema),
  responses: { 200: json(named(checkInReplySchema, "CheckInReply"), "A task, offers, or a wait"), ...errors(...DEVICE_AUTH_ERRORS, ...BODY_ERRORS) },
});
const ping = createRoute({
  tags, security: asDevice, method: "post", path: "/v1/ping", summary: "Say the device is still there",
  middleware: [bodyLimit(JSON_BODY_LIMIT), clientAuth({ shardChecks: true }), jsonBody()],
  request: jsonRequest(pingSchema),
  responses: { 200: json(pingReplySchema, "How long the device's attributes are kept"), ...errors(...DEVICE_AUTH_ERRORS, ...BODY_ERRORS) },
});

/** A token for `clientId` that lasts the configured lifetime from now (DEVICE_TOKEN_TTL_SECONDS). */
async function enrolment(env: AppEnv["Bindings"], clientId: string) {
  const issued = await issueClientToken(secret(env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"), clientId, Date.now() + deviceTokenTtlMs(env));
  return { clientId, ...issued, protocol: PROTOCOL_VERSION };
}

/** Device enrolment, token renewal and check-in. */
export const clientRoutes = apiRoutes()
  .openapi(enrol, async (c) => {
    const { enrolmentToken } = c.req.valid("json");
    const scope = enrolmentToken === undefined ? null : await directoryOf(c.env).enrolmentFor(await hashKey(enrolmentToken));
    if (enrolmentToken !== undefined && !scope) throw new PropiusError("enrolment_token_invalid", "this enrolment token is unknown or was revoked");
    const clientId = `c${randomId(15)}`;
    // The scope is stored with the device's shard before its token exists: its first check-in carries it.
    if (scope) await unwrap(clientManagerOf(c.env, clientId).setScope(clientId, enrolmentScope(scope)));
    return c.json(await enrolment(c.env, clientId), 201);
  })
  .openapi(renew, async (c) => c.json(await enrolment(c.env, c.get("clientId")), 201))
  .openapi(checkIn, async (c) => {
    const { attributes, accept } = c.req.valid("json");
    const clientId = c.get("clientId");
    const reply = await unwrap(clientManagerOf(c.env, clientId).checkIn(clientId, attributes, accept));
    if (reply.status !== "task") c.header("retry-after", String(Math.ceil(reply.retryAfterMs / 1000)));
    return c.json(reply, 200);
  })
  .openapi(ping, async (c) => {
    const { attributes } = c.req.valid("json");
    const clientId = c.get("clientId");
    const { ttlMs } = await unwrap(clientManagerOf(c.env, clientId).ping(clientId, attributes));
    return c.json({ ok: true as const, ttlMs }, 200);
  });
