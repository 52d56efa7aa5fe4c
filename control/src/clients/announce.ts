import type { Env } from "../env.js";
import { clientShards } from "../scheduling/config.js";
import { clientManagerShard } from "../directory/directory-client.js";

/**
 * Tells every client-manager shard that a job has room again (a round or an evaluation opened, a
 * slot freed): each binds the devices waiting on its push connections at once. A shard that
 * cannot be reached loses nothing: its devices check in again when their wait is up.
 */
export async function announceJob(env: Pick<Env, "CLIENTS" | "CLIENT_SHARDS">, jobId: string): Promise<void> {
  const shards = Array.from({ length: clientShards(env) }, (_, i) => clientManagerShard(env, i).announce(jobId));
  for (const result of await Promise.allSettled(shards)) {
    if (result.status === "rejected") console.error(`could not announce job ${jobId} to a client-manager shard`, result.reason);
  }
}
