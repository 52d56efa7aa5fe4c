import { PropiusError } from "@propius/shared";
import type { Env } from "../env.js";
import { secret } from "../middleware/auth/index.js";
import { tickets, type TicketClaims } from "../auth/tickets.js";
import { jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";

/**
 * A training ticket checked in the Worker, before any aggregator shard is reached: a ticket not
 * signed for this job, device and round would otherwise build a shard (and its tables) for
 * whatever job id the path names. The job's object answers `job_not_found` for an id that names
 * no job, and writes nothing; anything else is `ticket_invalid`. The shard checks it again, with
 * its lease.
 */
export async function ticketFor(env: Pick<Env, "PROPIUS_TOKEN_SECRET" | "JOBS">, call: { jobId: string; clientId: string; round: number; ticket: string }): Promise<TicketClaims> {
  const claims = tickets(secret(env.PROPIUS_TOKEN_SECRET, "PROPIUS_TOKEN_SECRET")).verify(call.ticket);
  if (!claims || claims.jobId !== call.jobId || claims.clientId !== call.clientId || claims.round !== call.round) {
    await unwrap(jobOf(env, call.jobId).describe());
    throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
  }
  return claims;
}
