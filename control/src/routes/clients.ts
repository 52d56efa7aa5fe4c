import { Hono } from "hono";
import { PROTOCOL_VERSION, checkInSchema, pingSchema, registerClientSchema, type PingReply } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { clientAuth, secret } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit } from "../middleware/body-limit/index.js";
import { readJson } from "../middleware/validate/index.js";
import { issueClientToken, randomId } from "../auth/tokens.js";
import { clientManagerOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";

/** Device enrolment and check-in. */
export const clientRoutes = new Hono<AppEnv>()
  .post("/v1/clients", bodyLimit(JSON_BODY_LIMIT), async (c) => {
    await readJson(c, registerClientSchema);
    const tokenSecret = secret(c.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET");
    const clientId = `c${randomId(15)}`;
    return c.json({ clientId, token: await issueClientToken(tokenSecret, clientId), protocol: PROTOCOL_VERSION }, 201);
  })
  .post("/v1/checkin", bodyLimit(JSON_BODY_LIMIT), clientAuth(), async (c) => {
    const { attributes, accept } = await readJson(c, checkInSchema);
    const clientId = c.get("clientId");
    const reply = await unwrap(clientManagerOf(c.env, clientId).checkIn(clientId, attributes, accept));
    if (reply.status !== "task") c.header("retry-after", String(Math.ceil(reply.retryAfterMs / 1000)));
    return c.json(reply);
  })
  .post("/v1/ping", bodyLimit(JSON_BODY_LIMIT), clientAuth(), async (c) => {
    const { attributes } = await readJson(c, pingSchema);
    const clientId = c.get("clientId");
    const { ttlMs } = await unwrap(clientManagerOf(c.env, clientId).ping(clientId, attributes));
    return c.json({ ok: true, ttlMs } satisfies PingReply);
  });
