import { Hono, type Context } from "hono";
import type { z } from "zod";
import { PropiusError, TICKET_HEADER, WEIGHTS_MEDIA_TYPE, evaluationReportSchema, taskFailureSchema } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { clientAuth } from "../middleware/auth/index.js";
import { JSON_BODY_LIMIT, bodyLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { intParam, readJson } from "../middleware/validate/index.js";
import { aggregatorOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { bodyStream, drain } from "../http/byte-stream.js";
import { submitUpdate } from "../aggregation/submit-update.js";
import { TICKET_PATTERN } from "../auth/tickets.js";
import type { Upload } from "../aggregation/shard-ports.js";
import { countRefusals } from "../metrics/count-refusals.js";

import { jobIdParam } from "./job-id.js";

/** The task's ticket, from its header. */
function ticketOf(c: Context<AppEnv>): string {
  const ticket = c.req.header(TICKET_HEADER);
  // A training ticket is signed (`tk.<claims>.<signature>`, see auth/tickets.ts); an evaluation ticket is an id the job keeps.
  if (!ticket || !(/^[A-Za-z0-9_-]{8,64}$/.test(ticket) || TICKET_PATTERN.test(ticket))) throw new PropiusError("ticket_invalid", `send the task's ticket in the ${TICKET_HEADER} header`);
  return ticket;
}

/**
 * What a device sends back for its task, with the ticket it was given: the round's delta (accepted
 * once), its evaluation of a round's model, or the reason it could not do the task (its slot is
 * freed at once).
 */
export const updateRoutes = new Hono<AppEnv>()
  .post("/v1/jobs/:id/rounds/:round/updates", countRefusals(), clientAuth(), bodyLimit(uploadLimit), async (c) => {
    const jobId = jobIdParam(c);
    const round = intParam(c, "round");
    const ticket = ticketOf(c);
    if (!(c.req.header("content-type") ?? "").startsWith(WEIGHTS_MEDIA_TYPE)) {
      throw new PropiusError("unsupported_media_type", `send the delta as ${WEIGHTS_MEDIA_TYPE}`);
    }
    const clientId = c.get("clientId");
    // Handed on unread: the shard receives it (no copy here, none passed by value), so that it also
    // knows the upload is on its way in while it forms a group. The size is the checked Content-Length.
    const body = bodyStream(c.req.raw);
    const length = c.req.header("content-length");
    const declaredBytes = length !== undefined && /^\d+$/.test(length) ? Number(length) : null;
    // One object call: the device's aggregator shard checks the ticket, folds the body, and has the job count it.
    const shards = (index: number) => ({
      submit: ({ body: stream, ...upload }: Upload<ReadableStream<Uint8Array>>, shard: number) => unwrap(aggregatorOf(c.env, jobId, index).submit(upload, shard, stream, declaredBytes)),
    });
    try {
      return c.json(await submitUpdate(shards, { jobId, ticket, clientId, round, body }), 202);
    } finally {
      // Refused before the shard was called: the body is received to its end all the same (see `drain`).
      if (!body.locked) await drain(body);
    }
  })
  .post("/v1/jobs/:id/rounds/:round/failures", clientAuth(), bodyLimit(JSON_BODY_LIMIT), async (c) => {
    const { jobId, task, body } = await reportOf(c, taskFailureSchema);
    const record = await unwrap(jobOf(c.env, jobId).reportFailure({ ...task, failure: body }));
    return c.json({ recorded: true, jobId, round: record.round, failed: record.failed }, 202);
  })
  .post("/v1/jobs/:id/rounds/:round/evaluations", clientAuth(), bodyLimit(JSON_BODY_LIMIT), async (c) => {
    const { jobId, task, body } = await reportOf(c, evaluationReportSchema);
    const record = await unwrap(jobOf(c.env, jobId).reportEvaluation({ ...task, report: body }));
    return c.json({ recorded: true, jobId, round: record.round, evaluation: record.evaluation }, 202);
  });

/** A device's JSON report on its task: the job, and the ticket, client, round and body it names. */
async function reportOf<S extends z.ZodType>(c: Context<AppEnv>, schema: S) {
  const jobId = jobIdParam(c);
  const round = intParam(c, "round");
  const ticket = ticketOf(c);
  const body = await readJson(c, schema);
  return { jobId, task: { ticket, clientId: c.get("clientId"), round }, body };
}
