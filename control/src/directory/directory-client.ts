import type { Env } from "../env.js";
import type { DirectoryObject } from "./directory-object.js";
import type { JobObject } from "../job/job-object.js";
import type { ClientManagerObject } from "../clients/client-manager-object.js";
import type { AggregatorObject } from "../aggregation/aggregator-object.js";
import { clientShards } from "../scheduling/config.js";
import { hashId } from "../scheduling/policies/index.js";

/**
 * RPC stubs typed as the objects' own methods: every method is async and its results are plain
 * structured-cloneable data, so the stub's results are the method's results.
 */
type Stub<T> = { [K in keyof T as T[K] extends (...args: never[]) => Promise<unknown> ? K : never]: T[K] };

/** The one directory object (tenants, keys, job index). */
export function directoryOf(env: Pick<Env, "DIRECTORY">): Stub<DirectoryObject> {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName("directory")) as unknown as Stub<DirectoryObject>;
}

/** The Durable Object of one job. */
export function jobOf(env: Pick<Env, "JOBS">, jobId: string): Stub<JobObject> {
  return env.JOBS.get(env.JOBS.idFromName(jobId)) as unknown as Stub<JobObject>;
}

/** The client-manager shard of a device: by a hash of its id, so that its registry entry and binding live in one place. */
export function clientManagerOf(env: Pick<Env, "CLIENTS" | "CLIENT_SHARDS">, clientId: string): Stub<ClientManagerObject> {
  return clientManagerShard(env, hashId(clientId) % clientShards(env));
}

/** Client-manager shard `shard` (of `clientShards(env)`). */
export function clientManagerShard(env: Pick<Env, "CLIENTS">, shard: number): Stub<ClientManagerObject> {
  return env.CLIENTS.get(env.CLIENTS.idFromName(`clients-${shard}`)) as unknown as Stub<ClientManagerObject>;
}

/** Aggregator shard `shard` of a job. */
export function aggregatorOf(env: Pick<Env, "AGGREGATORS">, jobId: string, shard: number): Stub<AggregatorObject> {
  return env.AGGREGATORS.get(env.AGGREGATORS.idFromName(`${jobId}/aggregator-${shard}`)) as unknown as Stub<AggregatorObject>;
}
