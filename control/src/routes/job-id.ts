import type { Context } from "hono";
import { PropiusError } from "@propius/shared";

const JOB_ID = /^job_[A-Za-z0-9_-]{8,64}$/;

/** The `:id` path parameter, refused as job_not_found unless it has the shape of a job id. */
export function jobIdParam(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!JOB_ID.test(id)) throw new PropiusError("job_not_found", "no such job");
  return id;
}
