import { Hono } from "hono";
import { PropiusError, TICKET_HEADER, WEIGHTS_MEDIA_TYPE } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { clientAuth } from "../middleware/auth/index.js";
import { bodyLimit, uploadLimit } from "../middleware/body-limit/index.js";
import { intParam } from "../middleware/validate/index.js";
import { aggregatorOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { bodyStream } from "../http/byte-stream.js";
import { jobIdParam } from "./job-id.js";

/** Devices upload a round's delta with the ticket they were given; accepted once. */
export const updateRoutes = new Hono<AppEnv>().post("/v1/jobs/:id/rounds/:round/updates", clientAuth(), bodyLimit(uploadLimit), async (c) => {
  const jobId = jobIdParam(c);
  const round = intParam(c, "round");
  const ticket = c.req.header(TICKET_HEADER);
  if (!ticket || !/^[A-Za-z0-9_-]{8,64}$/.test(ticket)) throw new PropiusError("ticket_invalid", `send the task's ticket in the ${TICKET_HEADER} header`);
  if (!(c.req.header("content-type") ?? "").startsWith(WEIGHTS_MEDIA_TYPE)) {
    throw new PropiusError("unsupported_media_type", `send the delta as ${WEIGHTS_MEDIA_TYPE}`);
  }
  const clientId = c.get("clientId");
  // The job checks the ticket; the device's aggregator shard reads and folds the delta; the job counts it.
  const job = jobOf(c.env, jobId);
  const admission = await unwrap(job.admitUpdate({ ticket, clientId, round }));
  const folded = await unwrap(aggregatorOf(c.env, jobId, admission.shard).fold(admission, bodyStream(c.req.raw)));
  const receipt = await unwrap(job.commitUpdate({ ticket, clientId, key: admission.key, folded }));
  return c.json(receipt, 202);
});
