import { createRoute, z } from "@hono/zod-openapi";
import { deviceRevokedSchema } from "@propius/shared";
import { apiRoutes, asAdmin, errors, json } from "../http/api-routes.js";
import { adminAuth } from "../middleware/auth/index.js";
import { clientManagerOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { deviceTokenTtlMs } from "../auth/tokens.js";
import { forgetCleared } from "../auth/revocation-check.js";

const revoke = createRoute({
  tags: ["operator"], security: asAdmin, method: "post", path: "/v1/admin/devices/{clientId}/revoke", summary: "Revoke a device's token",
  description: "Every token the device holds is refused from now on (`token_revoked`), and it cannot renew them: at once at its client-manager shard (check-in, ping, push connection, whose open connection is closed), within 5 s on the other routes. A revoked device may enrol again as a new device, unless enrolment is closed to it.",
  middleware: [adminAuth()],
  request: { params: z.object({ clientId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).openapi({ param: { name: "clientId", in: "path" }, description: "The device's id, as its enrolment gave it" }) }) },
  responses: { 200: json(deviceRevokedSchema, "The device, revoked"), ...errors("unauthorized", "not_configured", "validation_failed") },
});

/** The operator revokes a device: its tokens are refused until they would have expired anyway. */
export const deviceRevocationRoutes = apiRoutes().openapi(revoke, async (c) => {
  const { clientId } = c.req.valid("param");
  // Every token of the device was issued at most a lifetime ago: by now + lifetime (+1 s, expiries
  // are rounded up to whole seconds), all have expired.
  const until = Date.now() + deviceTokenTtlMs(c.env) + 1_000;
  const { closed } = await unwrap(clientManagerOf(c.env, clientId).revoke(clientId, until));
  forgetCleared(clientId);
  return c.json({ clientId, revoked: true as const, until, closedConnections: closed }, 200);
});
