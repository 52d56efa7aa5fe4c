import { z } from "zod";
import { checkInSchema } from "./protocol.js";
import type { CheckInReply } from "./responses.js";
import type { ErrorBody } from "./errors.js";

/**
 * Push for waiting devices (`GET /v1/connect`, a WebSocket): the device checks in over the socket
 * as it would over HTTP, and a device told to wait keeps the socket open; when a round opens or a
 * slot frees, its client-manager shard binds it and sends the reply unasked.
 */

/** The subprotocol both ends speak; the device's token rides as a second one, `bearer.<token>`. */
export const PUSH_PROTOCOL = "propius.v1";
export const PUSH_TOKEN_PREFIX = "bearer.";

/** Text frames a device may send; larger ones close the socket (1009). */
export const PUSH_MESSAGE_LIMIT = 16 * 1024;

/** A keep-alive text frame, answered with PUSH_PONG by the platform without waking the shard. */
export const PUSH_PING = "ping";
export const PUSH_PONG = "pong";

/** A check-in sent over the socket; `id` pairs it with its reply. */
export const pushCheckInSchema = checkInSchema.extend({
  type: z.literal("checkin"),
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type PushCheckIn = z.input<typeof pushCheckInSchema>;

/** What the shard sends: a reply to check-in `id`, or (no id) a reply pushed when the device was waiting. */
export type PushMessage =
  | { type: "reply"; id?: number; reply: CheckInReply }
  | ({ type: "error"; id?: number } & ErrorBody);
