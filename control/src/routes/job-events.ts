import { createRoute } from "@hono/zod-openapi";
import { EVENTS_PROTOCOL, EVENTS_TOKEN_SECONDS, PUSH_TOKEN_PREFIX, PropiusError, eventsTokenSchema } from "@propius/shared";
import { apiRoutes, asOwner, errors, jobParams, json } from "../http/api-routes.js";
import { ownerAuth, secret } from "../middleware/auth/index.js";
import { jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { checkSubscription, signSubscription } from "../auth/subscriptions.js";
import { EVENTS_TENANT_HEADER } from "../job/job-object.js";

/**
 * Live job events for owners. `POST /v1/jobs/:id/events/token` (API key) issues a subscription
 * token for one job, valid EVENTS_TOKEN_SECONDS; `GET /v1/jobs/:id/events` opens the WebSocket
 * with it, held by the job's object. The token rides as a second subprotocol, `bearer.<token>`,
 * as a device's does on `/v1/connect`: browsers cannot set headers on a WebSocket, and a
 * subprotocol, unlike a query, stays out of URLs that proxies, logs and browser history keep.
 */
const tokenRoute = createRoute({
  tags: ["jobs"], security: asOwner, method: "post", path: "/v1/jobs/{id}/events/token", summary: "A subscription token for the job's live events",
  description: `Valid ${EVENTS_TOKEN_SECONDS} s for opening \`GET /v1/jobs/{id}/events\`; scoped to the tenant and the job.`,
  middleware: [ownerAuth()],
  request: { params: jobParams },
  responses: { 201: json(eventsTokenSchema, "The token"), ...errors("unauthorized", "job_not_found", "not_configured") },
});
const eventsRoute = createRoute({
  tags: ["jobs"], method: "get", path: "/v1/jobs/{id}/events", summary: "Follow the job's live events (WebSocket)",
  description: `A WebSocket speaking \`${EVENTS_PROTOCOL}\`, with the subscription token as the subprotocol \`${PUSH_TOKEN_PREFIX}<token>\`: a snapshot of the job first (unless the missed events could be replayed), then its events as they happen (see docs/api.md).`,
  request: { params: jobParams },
  responses: { 101: { description: "Switching protocols" }, ...errors("upgrade_required", "bad_request", "unauthorized", "subscription_invalid", "subscription_expired", "job_not_found") },
});

export const jobEventRoutes = apiRoutes()
  .openapi(tokenRoute, async (c) => {
    const { id } = c.req.valid("param");
    const tenant = c.get("tenant");
    // Answers job_not_found for a missing job and for another tenant's.
    await unwrap(jobOf(c.env, id).status(tenant));
    const expiresAt = Date.now() + EVENTS_TOKEN_SECONDS * 1000;
    const token = signSubscription(secret(c.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"), { jobId: id, tenant, expiresAt });
    return c.json({ token, expiresAt, protocol: EVENTS_PROTOCOL }, 201);
  })
  .openapi(eventsRoute, async (c) => {
    const { id } = c.req.valid("param");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new PropiusError("upgrade_required", "subscribe with a WebSocket (Upgrade: websocket)");
    const protocols = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
    if (!protocols.includes(EVENTS_PROTOCOL)) throw new PropiusError("bad_request", `ask for the subprotocol '${EVENTS_PROTOCOL}'`);
    const token = protocols.find((p) => p.startsWith(PUSH_TOKEN_PREFIX))?.slice(PUSH_TOKEN_PREFIX.length);
    if (!token) throw new PropiusError("unauthorized", `send the subscription token from POST /v1/jobs/${id}/events/token as the subprotocol '${PUSH_TOKEN_PREFIX}<token>'`);
    const check = checkSubscription(secret(c.env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET"), token, id, Date.now());
    if (!check.ok && check.reason === "expired") throw new PropiusError("subscription_expired", "the subscription token has expired: ask for a new one");
    if (!check.ok) throw new PropiusError("subscription_invalid", check.reason === "other_job" ? "the subscription token is for another job" : "invalid subscription token");
    const headers = new Headers({ upgrade: "websocket", [EVENTS_TENANT_HEADER]: check.claims.tenant });
    // The job answers 404 job_not_found itself when it no longer exists (deleted since the token was issued).
    return jobOf(c.env, id).fetch(new Request(c.req.url, { headers }));
  });
