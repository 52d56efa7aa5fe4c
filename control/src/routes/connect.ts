import { createRoute } from "@hono/zod-openapi";
import { PUSH_PROTOCOL, PUSH_TOKEN_PREFIX, PropiusError } from "@propius/shared";
import { apiRoutes, asDevice, errors } from "../http/api-routes.js";
import { bearerToken, clientOf, countingRefusals } from "../middleware/auth/index.js";
import { clientManagerOf } from "../directory/directory-client.js";
import { PUSH_CLIENT_HEADER } from "../clients/client-manager-object.js";

/**
 * `GET /v1/connect`: a device's push connection (a WebSocket speaking `propius.v1`), held by its
 * client-manager shard. Browsers cannot set headers on a WebSocket, so the token may come as a
 * second subprotocol, `bearer.<token>`, as well as in `Authorization`.
 */
const connect = createRoute({
  tags: ["devices"], security: asDevice, method: "get", path: "/v1/connect", summary: "Open the device's push connection (WebSocket)",
  description: `A WebSocket speaking \`${PUSH_PROTOCOL}\` (see docs/protocol.md): check-ins and task offers ride on it instead of polling. The token may come as the subprotocol \`${PUSH_TOKEN_PREFIX}<token>\`.`,
  responses: { 101: { description: "Switching protocols" }, ...errors("upgrade_required", "bad_request", "unauthorized", "token_expired", "token_revoked", "push_unavailable") },
});

export const connectRoutes = apiRoutes().openapi(connect, async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new PropiusError("upgrade_required", "connect with a WebSocket (Upgrade: websocket)");
  const protocols = (c.req.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
  if (!protocols.includes(PUSH_PROTOCOL)) throw new PropiusError("bad_request", `ask for the subprotocol '${PUSH_PROTOCOL}'`);
  const token = bearerToken(c) ?? protocols.find((p) => p.startsWith(PUSH_TOKEN_PREFIX))?.slice(PUSH_TOKEN_PREFIX.length);
  if (!token) throw new PropiusError("unauthorized", `send the client token as 'Authorization: Bearer <token>' or as the subprotocol '${PUSH_TOKEN_PREFIX}<token>'`);
  // The shard refuses a revoked device itself.
  const clientId = await countingRefusals(c, () => clientOf(c.env, token, { shardChecks: true }));
  const headers = new Headers({ upgrade: "websocket", [PUSH_CLIENT_HEADER]: clientId });
  return clientManagerOf(c.env, clientId).fetch(new Request(c.req.url, { headers }));
});
