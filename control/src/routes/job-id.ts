import type { Context } from "hono";
import { JOB_ID_PATTERN, PropiusError } from "@propius/shared";

/** The `:id` path parameter, refused as job_not_found unless it has the shape of a job id. */
export function jobIdParam(c: Context): string {
  const id = c.req.param("id") ?? "";
  if (!JOB_ID_PATTERN.test(id)) throw new PropiusError("job_not_found", "no such job");
  return id;
}
