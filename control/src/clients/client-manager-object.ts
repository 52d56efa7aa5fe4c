import { DurableObject } from "cloudflare:workers";
import { PropiusError, type Attributes, type CheckInReply } from "@propius/shared";
import type { Env } from "../env.js";
import { directoryOf, jobOf } from "../directory/directory-client.js";
import { reply, unwrap, type Reply } from "../job/reply.js";
import { toTask } from "../scheduling/task.js";
import { schedulingPolicy, viewTtlMs } from "../scheduling/config.js";
import { ClientManager, type ClaimAnswer } from "./client-manager.js";
import { SqliteClientRegistry } from "./sqlite-client-registry.js";
import { countersOf, type ObjectCounters } from "../diagnostics/object-counters.js";

/**
 * One client-manager shard: a thin Durable Object adapter over ClientManager, with SQLite storage
 * for the registry and bindings, the directory's job list, and the jobs' atomic claims. Its alarm
 * prunes devices not heard from within the registry's TTL.
 */
export class ClientManagerObject extends DurableObject<Env> {
  private built: ClientManager | undefined;
  /** Whether the prune alarm is known to be set, so that a check-in need not ask storage. */
  private pruneScheduled = false;

  checkIn(clientId: string, attributes: Attributes, accept?: string): Promise<Reply<CheckInReply>> {
    return reply(async () => {
      const answer = await this.manager().checkIn(clientId, attributes, Date.now(), accept);
      await this.schedulePrune();
      return answer;
    });
  }

  ping(clientId: string, attributes?: Attributes): Promise<Reply<{ known: boolean; ttlMs: number }>> {
    return reply(() => this.manager().ping(clientId, Date.now(), attributes));
  }

  /** What this object has done since it started (see `GET /v1/admin/counters`). */
  async counters(): Promise<ObjectCounters> {
    return countersOf("ClientManagerObject", this, this.ctx.storage.sql);
  }

  override async alarm(): Promise<void> {
    this.manager().prune(Date.now());
    await this.ctx.storage.setAlarm(Date.now() + this.manager().attributeTtlMs);
    this.pruneScheduled = true;
  }

  /** Built on first use, inside a reply, so that a configuration error reaches the caller with its code. */
  private manager(): ClientManager {
    this.built ??= new ClientManager({
      registry: new SqliteClientRegistry(this.ctx.storage.sql),
      policy: schedulingPolicy(this.env),
      loadJobs: () => directoryOf(this.env).scheduledJobs(),
      claim: (jobId, clientId) => claim(this.env, jobId, clientId),
      config: { viewTtlMs: viewTtlMs(this.env) },
    });
    return this.built;
  }

  private async schedulePrune(): Promise<void> {
    if (this.pruneScheduled) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + this.manager().attributeTtlMs);
    this.pruneScheduled = true;
  }
}

/** A job's claim as the client manager sees it: a job that refuses with an error simply has no slot. */
async function claim(env: Env, jobId: string, clientId: string): Promise<ClaimAnswer> {
  try {
    const result = await unwrap(jobOf(env, jobId).claim(clientId));
    return result.kind === "task" ? { kind: "task", task: toTask(jobId, result) } : result;
  } catch (error) {
    if (error instanceof PropiusError) return { kind: "wait", reason: error.code, retryAfterMs: 10_000 };
    throw error;
  }
}
