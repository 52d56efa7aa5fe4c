import { createRoute, z } from "@hono/zod-openapi";
import {
  PropiusError,
  SECURE_PHASES,
  TICKET_HEADER,
  secureInboxSchema,
  secureJoinedSchema,
  secureKeysSchema,
  securePendingSchema,
  secureRevealSchema,
  secureRosterSchema,
  secureSharesSchema,
  secureUnmaskSchema,
  updateReceiptSchema,
} from "@propius/shared";
import { clientAuth } from "../middleware/auth/index.js";
import { ticketFor } from "../http/ticket-check.js";
import { JSON_BODY_LIMIT, bodyLimit, streamLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, asDevice, errors, json, jsonRequest, rawWeightsContent, roundParams, ticketHeaders } from "../http/api-routes.js";
import { aggregatorOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { bodyStream, drain } from "../http/byte-stream.js";
import { uploadIdleMs } from "../http/timed-read.js";
import type { Context } from "hono";
import type { AppEnv } from "../http/app-env.js";

const tags = ["secure aggregation"];
const device = { tags, security: asDevice };
/** Codes every step can answer: the ticket, the job, the round, the group. */
const STEP_ERRORS = ["unauthorized", "token_expired", "token_revoked", "rate_limited", "ticket_invalid", "job_not_found", "round_closed", "secure_aggregation_off", "secure_phase_closed", "secure_group_failed"] as const;
const base = "/v1/jobs/{id}/rounds/{round}/secure";

const join = createRoute({
  ...device, method: "post", path: `${base}/keys`, summary: "Join the shard's group with the device's public keys",
  description: "The first step of a round's secure aggregation (docs/secure-aggregation.md): the device's two P-256 public keys; the answer is its index in its group.",
  middleware: [clientAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, headers: ticketHeaders, ...jsonRequest(secureKeysSchema) },
  responses: { 200: json(secureJoinedSchema, "The device's index in its group"), ...errors(...STEP_ERRORS, ...BODY_ERRORS) },
});
const share = createRoute({
  ...device, method: "post", path: `${base}/shares`, summary: "Send the device's sealed shares, one for each device of the roster",
  middleware: [clientAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, headers: ticketHeaders, ...jsonRequest(secureSharesSchema) },
  responses: { 202: json(z.object({ accepted: z.literal(true) }), "The shares, relayed"), ...errors(...STEP_ERRORS, ...BODY_ERRORS) },
});
const mask = createRoute({
  ...device, method: "post", path: `${base}/masked`, summary: "Send the device's masked input",
  description: "Little-endian 32-bit integers: one for each of the model's parameters, then the weight; added to the group's sum and never kept apart.",
  middleware: [clientAuth(), streamLimit(uploadLimit)],
  request: { params: roundParams, headers: ticketHeaders, body: { required: true, content: rawWeightsContent } },
  responses: { 202: json(z.object({ accepted: z.literal(true), bytes: z.number().int() }), "The masked input, added to the group's sum"), ...errors(...STEP_ERRORS, "invalid_update", "payload_too_large", "upload_stalled", "unsupported_media_type") },
});
const reveal = createRoute({
  ...device, method: "post", path: `${base}/reveal`, summary: "Reveal the device's shares for unmasking the group's sum",
  middleware: [clientAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, headers: ticketHeaders, ...jsonRequest(secureRevealSchema) },
  responses: { 202: json(z.object({ accepted: z.literal(true) }), "The shares, taken"), ...errors(...STEP_ERRORS, ...BODY_ERRORS) },
});
const outcome = createRoute({
  ...device, method: "get", path: `${base}/{phase}`, summary: "A phase's outcome for the device",
  description: "`roster`: the group's keys and threshold; `shares`: the shares sealed for the device; `unmask`: the senders and the dropped; `receipt`: the device's update, counted. The shard holds the ask open for up to 10 s; before the phase closes the answer is 202 pending.",
  middleware: [clientAuth()],
  request: { params: roundParams.extend({ phase: z.enum(SECURE_PHASES).openapi({ param: { name: "phase", in: "path" } }) }), headers: ticketHeaders },
  responses: {
    200: json(z.union([secureRosterSchema, secureInboxSchema, secureUnmaskSchema, updateReceiptSchema]), "The phase's outcome"),
    202: json(securePendingSchema, "The phase has not closed: ask again"),
    ...errors(...STEP_ERRORS, "ticket_used"),
  },
});

/** The call as the device's shard takes it, once the Worker has checked its ticket (see `ticketFor`), and that shard. */
async function callOf(c: Context<AppEnv>, params: { id: string; round: number }, headers: z.output<typeof ticketHeaders>) {
  const call = { jobId: params.id, ticket: headers[TICKET_HEADER], clientId: c.get("clientId"), round: params.round };
  const claims = await ticketFor(c.env, call);
  return { call, shard: aggregatorOf(c.env, params.id, claims.shard), index: claims.shard };
}

/** A round's secure aggregation between a device and its aggregator shard (see SecureShard). */
export const secureAggregationRoutes = apiRoutes()
  .openapi(join, async (c) => {
    const { call, shard, index } = await callOf(c, c.req.valid("param"), c.req.valid("header"));
    return c.json(await unwrap(shard.secureJoin(call, index, c.req.valid("json"))), 200);
  })
  .openapi(share, async (c) => {
    const { call, shard, index } = await callOf(c, c.req.valid("param"), c.req.valid("header"));
    return c.json(await unwrap(shard.secureShare(call, index, c.req.valid("json"))), 202);
  })
  .openapi(mask, async (c) => {
    const body = bodyStream(c.req.raw);
    try {
      const { call, shard, index } = await callOf(c, c.req.valid("param"), c.req.valid("header"));
      if (!(c.req.header("content-type") ?? "").startsWith("application/octet-stream")) throw new PropiusError("unsupported_media_type", "send the masked input as application/octet-stream");
      const length = c.req.header("content-length");
      const declaredBytes = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
      return c.json(await unwrap(shard.secureMask(call, index, body, declaredBytes)), 202);
    } finally {
      // Refused before the shard was called: the body is received to its end all the same (see `drain`).
      if (!body.locked) await drain(body, uploadIdleMs(c.env));
    }
  })
  .openapi(reveal, async (c) => {
    const { call, shard, index } = await callOf(c, c.req.valid("param"), c.req.valid("header"));
    return c.json(await unwrap(shard.secureReveal(call, index, c.req.valid("json"))), 202);
  })
  .openapi(outcome, async (c) => {
    const params = c.req.valid("param");
    const { call, shard, index } = await callOf(c, params, c.req.valid("header"));
    const answer = await unwrap(shard.secureOutcome(call, index, params.phase));
    if (answer === null) return c.json({ status: "pending" as const, retryAfterMs: 0 }, 202);
    return c.json(answer, 200);
  });
