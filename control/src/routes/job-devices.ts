import { Hono } from "hono";
import { jobDevicesQuerySchema, type JobDevices } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
import { ownerAuth } from "../middleware/auth/index.js";
import { parseWith } from "../middleware/validate/index.js";
import { jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { jobIdParam } from "./job-id.js";

/**
 * `GET /v1/jobs/:id/devices`: the devices that took part in the job, by anonymous id, with the
 * attributes they reported and what they contributed; the most recently seen first, `?limit=` of
 * them (default 100, at most 1000). Another tenant's job is job_not_found, as a missing one.
 */
export const jobDeviceRoutes = new Hono<AppEnv>()
  .use("/v1/jobs/:id/devices", ownerAuth())
  .get("/v1/jobs/:id/devices", async (c) => {
    const id = jobIdParam(c);
    const { limit } = parseWith(jobDevicesQuerySchema, { limit: c.req.query("limit") });
    const devices = await unwrap(jobOf(c.env, id).devices(c.get("tenant"), limit));
    return c.json({ devices } satisfies JobDevices);
  });
