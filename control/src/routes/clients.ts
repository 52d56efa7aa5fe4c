import { createRoute } from "@hono/zod-openapi";
import { PROTOCOL_VERSION, checkInSchema, checkInReplySchema, enrolmentSchema, pingReplySchema, pingSchema, registerClientSchema } from "@propius/shared";
import { clientAuth, secret } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, named, asDevice, errors, json, jsonRequest } from "../http/api-routes.js";
import { issueClientToken, randomId } from "../auth/tokens.js";
import { clientManagerOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";

const tags = ["devices"];

const enrol = createRoute({
  tags, method: "post", path: "/v1/clients", summary: "Enrol a device",
  description: "Anyone may enrol; the token is what the device's later calls carry.",
  middleware: [bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: jsonRequest(registerClientSchema),
  responses: { 201: json(enrolmentSchema, "The device's id and token (shown once)"), ...errors(...BODY_ERRORS, "not_configured") },
});
const checkIn = createRoute({
  tags, security: asDevice, method: "post", path: "/v1/checkin", summary: "Ask for a task",
  description: "The device's public attributes go to its client-manager shard, which binds it to a job, offers jobs with private constraints, or says when to come back (also in `Retry-After`).",
  middleware: [bodyLimit(JSON_BODY_LIMIT), clientAuth(), jsonBody()],
  request: jsonRequest(checkInSchema),
  responses: { 200: json(named(checkInReplySchema, "CheckInReply"), "A task, offers, or a wait"), ...errors("unauthorized", ...BODY_ERRORS) },
});
const ping = createRoute({
  tags, security: asDevice, method: "post", path: "/v1/ping", summary: "Say the device is still there",
  middleware: [bodyLimit(JSON_BODY_LIMIT), clientAuth(), jsonBody()],
  request: jsonRequest(pingSchema),
  responses: { 200: json(pingReplySchema, "How long the device's attributes are kept"), ...errors("unauthorized", ...BODY_ERRORS) },
});

/** Device enrolment and check-in. */
export const clientRoutes = apiRoutes()
  .openapi(enrol, async (c) => {
    const tokenSecret = secret(c.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET");
    const clientId = `c${randomId(15)}`;
    return c.json({ clientId, token: await issueClientToken(tokenSecret, clientId), protocol: PROTOCOL_VERSION }, 201);
  })
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
