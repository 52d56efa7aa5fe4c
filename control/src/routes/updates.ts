import { createRoute, z } from "@hono/zod-openapi";
import { PropiusError, TICKET_HEADER, WEIGHTS_MEDIA_TYPE, evaluationRecordedSchema, evaluationReportSchema, failureRecordedSchema, taskFailureSchema, updateReceiptSchema } from "@propius/shared";
import { clientAuth } from "../middleware/auth/index.js";
import { ticketFor } from "../http/ticket-check.js";
import { JSON_BODY_LIMIT, bodyLimit, streamLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { jsonBody } from "../middleware/validate/index.js";
import { BODY_ERRORS, apiRoutes, asDevice, errors, json, jsonRequest, roundParams, ticketHeaders, weightsContent } from "../http/api-routes.js";
import { aggregatorOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { bodyStream, drain } from "../http/byte-stream.js";
import { uploadIdleMs } from "../http/timed-read.js";
import { submitUpdate } from "../aggregation/submit-update.js";
import type { Upload } from "../aggregation/shard-ports.js";
import { countRefusals } from "../metrics/count-refusals.js";

const tags = ["devices"];
const device = { tags, security: asDevice };
/** Codes a report on a task can answer beside its body's: the ticket, the job, the round. */
const TASK_ERRORS = ["unauthorized", "token_expired", "token_revoked", "rate_limited", "ticket_invalid", "ticket_used", "job_not_found", "job_not_running", "round_closed"] as const;

const upload = createRoute({
  ...device, method: "post", path: "/v1/jobs/{id}/rounds/{round}/updates", summary: "Upload the round's delta",
  description: `The delta as a weights message with the task's ticket in \`${TICKET_HEADER}\`; accepted once per ticket, folded into the job's running sum as it streams in.`,
  middleware: [countRefusals(), clientAuth(), streamLimit(uploadLimit)],
  request: { params: roundParams, headers: ticketHeaders, body: { required: true, content: weightsContent } },
  responses: { 202: json(updateReceiptSchema, "The update, accepted"), ...errors(...TASK_ERRORS, "invalid_update", "payload_too_large", "upload_stalled", "unsupported_media_type") },
});
const failure = createRoute({
  ...device, method: "post", path: "/v1/jobs/{id}/rounds/{round}/failures", summary: "Say the device cannot do its task",
  description: "Its slot in the round is freed at once; a lasting failure (a missing kernel, data that does not fit) keeps the device from the job.",
  middleware: [clientAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, headers: ticketHeaders, ...jsonRequest(taskFailureSchema) },
  responses: { 202: json(failureRecordedSchema, "The failure, recorded"), ...errors(...TASK_ERRORS, ...BODY_ERRORS) },
});
const evaluation = createRoute({
  ...device, method: "post", path: "/v1/jobs/{id}/rounds/{round}/evaluations", summary: "Report an evaluation task's result",
  middleware: [clientAuth(), bodyLimit(JSON_BODY_LIMIT), jsonBody()],
  request: { params: roundParams, headers: ticketHeaders, ...jsonRequest(evaluationReportSchema) },
  responses: { 202: json(evaluationRecordedSchema, "The evaluation, recorded"), ...errors(...TASK_ERRORS, ...BODY_ERRORS) },
});

/** A task's ticket, client and round, from the request its report came in. */
function taskOf(c: { get(key: "clientId"): string }, params: { round: number }, headers: z.output<typeof ticketHeaders>) {
  return { ticket: headers[TICKET_HEADER], clientId: c.get("clientId"), round: params.round };
}

/**
 * What a device sends back for its task, with the ticket it was given: the round's delta (accepted
 * once), its evaluation of a round's model, or the reason it could not do the task (its slot is
 * freed at once).
 */
export const updateRoutes = apiRoutes()
  .openapi(upload, async (c) => {
    const { id: jobId, round } = c.req.valid("param");
    const ticket = c.req.valid("header")[TICKET_HEADER];
    if (!(c.req.header("content-type") ?? "").startsWith(WEIGHTS_MEDIA_TYPE)) {
      throw new PropiusError("unsupported_media_type", `send the delta as ${WEIGHTS_MEDIA_TYPE}`);
    }
    const clientId = c.get("clientId");
    await ticketFor(c.env, { jobId, clientId, round, ticket });
    // Handed on unread: the shard receives it (no copy here, none passed by value), so that it also
    // knows the upload is on its way in while it forms a group. The size is the checked Content-Length.
    const body = bodyStream(c.req.raw);
    const length = c.req.header("content-length");
    const declaredBytes = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
    // One object call: the device's aggregator shard checks the ticket, folds the body, and has the job count it.
    const shards = (index: number) => ({
      submit: ({ body: stream, ...upload }: Upload<ReadableStream<Uint8Array>>, shard: number) => unwrap(aggregatorOf(c.env, jobId, index).submit(upload, shard, stream, declaredBytes)),
      spend: (upload: Omit<Upload, "body">, shard: number) => unwrap(aggregatorOf(c.env, jobId, index).spend(upload, shard)),
    });
    // A body the Worker ended (over the limit, stalled) was not refused for what the device sent.
    const cutShort = () => (c.get("bodyFailure") as (() => PropiusError | null) | undefined)?.() != null;
    try {
      return c.json(await submitUpdate(shards, { jobId, ticket, clientId, round, body }, { cutShort }), 202);
    } finally {
      // Refused before the shard was called: the body is received to its end all the same (see `drain`).
      if (!body.locked) await drain(body, uploadIdleMs(c.env));
    }
  })
  .openapi(failure, async (c) => {
    const params = c.req.valid("param");
    const record = await unwrap(jobOf(c.env, params.id).reportFailure({ ...taskOf(c, params, c.req.valid("header")), failure: c.req.valid("json") }));
    return c.json({ recorded: true as const, jobId: params.id, round: record.round, failed: record.failed }, 202);
  })
  .openapi(evaluation, async (c) => {
    const params = c.req.valid("param");
    const record = await unwrap(jobOf(c.env, params.id).reportEvaluation({ ...taskOf(c, params, c.req.valid("header")), report: c.req.valid("json") }));
    return c.json({ recorded: true as const, jobId: params.id, round: record.round, evaluation: record.evaluation }, 202);
  });
