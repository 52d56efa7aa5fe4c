import { createRoute, z } from "@hono/zod-openapi";
import { apiRoutes, asAdmin, errors, json, jobId } from "../http/api-routes.js";
import { adminAuth } from "../middleware/auth/index.js";
import { aggregatorOf, clientManagerShard, directoryOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import { clientShards } from "../scheduling/config.js";
import { totalOf } from "../diagnostics/counters-total.js";
import type { ObjectCounters } from "../diagnostics/object-counters.js";

/**
 * Operator diagnostics: the object calls and SQL writes of the directory and every client-manager
 * shard, and with `?job=<id>` of that job and its aggregator shards, summed (see docs/api.md).
 */
const countersRoute = createRoute({
  tags: ["operator"], security: asAdmin, method: "get", path: "/v1/admin/counters", summary: "Object calls and SQL writes, summed",
  middleware: [adminAuth()],
  request: { query: z.object({ job: jobId.optional().openapi({ param: { name: "job", in: "query" }, description: "also count this job's object and its aggregator shards" }) }) },
  responses: { 200: json(z.record(z.string(), z.unknown()), "The counters: totals and per object (see docs/api.md)"), ...errors("unauthorized", "job_not_found", "not_configured") },
});

export const adminRoutes = apiRoutes().openapi(countersRoute, async (c) => {
  const { job: jobId } = c.req.valid("query");
  const reached: Promise<{ name: string; counters: ObjectCounters }>[] = [
    named("directory", directoryOf(c.env).counters()),
    ...Array.from({ length: clientShards(c.env) }, (_, i) => named(`clients-${i}`, clientManagerShard(c.env, i).counters())),
  ];
  if (jobId !== undefined) {
    const { aggregatorShards, ...job } = await unwrap(jobOf(c.env, jobId).counters());
    reached.push(named("job", Promise.resolve(job)));
    for (let i = 0; i < aggregatorShards; i++) reached.push(named(`aggregator-${i}`, aggregatorOf(c.env, jobId, i).counters()));
  }
  return c.json(totalOf(await Promise.all(reached)), 200);
});

async function named(name: string, counters: Promise<ObjectCounters>): Promise<{ name: string; counters: ObjectCounters }> {
  return { name, counters: await counters };
}
