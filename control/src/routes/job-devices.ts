import { createRoute } from "@hono/zod-openapi";
import { jobDevicesQuerySchema, jobDevicesSchema } from "@propius/shared";
import { ownerAuth } from "../middleware/auth/index.js";
import { apiRoutes, asOwner, errors, jobParams, json } from "../http/api-routes.js";
import { jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";

const devicesRoute = createRoute({
  tags: ["jobs"], security: asOwner, method: "get", path: "/v1/jobs/{id}/devices", summary: "The devices that took part in the job",
  description: "By anonymous id (per job, not reversible to the device), with the attributes they reported when bound and what they contributed; the most recently seen first, `limit` of them.",
  middleware: [ownerAuth()],
  request: { params: jobParams, query: jobDevicesQuerySchema },
  responses: { 200: json(jobDevicesSchema, "The job's devices"), ...errors("unauthorized", "job_not_found", "validation_failed") },
});

/**
 * `GET /v1/jobs/:id/devices`: the devices that took part in the job, by anonymous id, with the
 * attributes they reported and what they contributed; the most recently seen first, `?limit=` of
 * them (default 100, at most 1000). Another tenant's job is job_not_found, as a missing one.
 */
export const jobDeviceRoutes = apiRoutes().openapi(devicesRoute, async (c) => {
  const { id } = c.req.valid("param");
  const devices = await unwrap(jobOf(c.env, id).devices(c.get("tenant"), c.req.valid("query").limit));
  return c.json({ devices }, 200);
});
