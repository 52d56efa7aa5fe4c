import { Hono } from "hono";
import { JOB_ID_PATTERN, PropiusError } from "@propius/shared";
import type { AppEnv } from "../http/app-env.js";
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
export const adminRoutes = new Hono<AppEnv>().get("/v1/admin/counters", adminAuth(), async (c) => {
  const jobId = c.req.query("job");
  if (jobId !== undefined && !JOB_ID_PATTERN.test(jobId)) throw new PropiusError("job_not_found", "no such job");
  const reached: Promise<{ name: string; counters: ObjectCounters }>[] = [
    named("directory", directoryOf(c.env).counters()),
    ...Array.from({ length: clientShards(c.env) }, (_, i) => named(`clients-${i}`, clientManagerShard(c.env, i).counters())),
  ];
  if (jobId !== undefined) {
    const { aggregatorShards, ...job } = await unwrap(jobOf(c.env, jobId).counters());
    reached.push(named("job", Promise.resolve(job)));
    for (let i = 0; i < aggregatorShards; i++) reached.push(named(`aggregator-${i}`, aggregatorOf(c.env, jobId, i).counters()));
  }
  return c.json(totalOf(await Promise.all(reached)));
});

async function named(name: string, counters: Promise<ObjectCounters>): Promise<{ name: string; counters: ObjectCounters }> {
  return { name, counters: await counters };
}
