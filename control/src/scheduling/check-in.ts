import type { Attributes, CheckInReply, Task } from "@propius/shared";
import type { Env } from "../env.js";
import { directoryOf, jobOf } from "../directory/directory-client.js";
import { unwrap } from "../job/reply.js";
import type { ClaimResult } from "../job/job-core.js";

const IDLE_RETRY_MS = 10_000;

/** Spreads retries by +/- 20 % so that waiting devices do not come back in lockstep. */
export function jitter(ms: number, random = Math.random): number {
  return Math.round(ms * (0.8 + 0.4 * random()));
}

/**
 * Binds a checking-in device to the first running job (oldest first) that has a free slot in its
 * current round. The job object claims the slot atomically; when none has one, the reply says
 * when to come back.
 */
export async function checkIn(env: Env, clientId: string, _attributes: Attributes): Promise<CheckInReply> {
  const jobs = await directoryOf(env).runningJobs();
  let wait: { retryAfterMs: number; reason: string } | null = null;
  for (const job of jobs) {
    const claim = await unwrap(jobOf(env, job.id).claim(clientId));
    if (claim.kind === "task") return { status: "task", task: toTask(job.id, claim) };
    if (!wait || claim.retryAfterMs < wait.retryAfterMs) wait = { retryAfterMs: claim.retryAfterMs, reason: claim.reason };
  }
  const { retryAfterMs, reason } = wait ?? { retryAfterMs: IDLE_RETRY_MS, reason: "no_jobs" };
  return { status: "wait", retryAfterMs: jitter(Math.min(retryAfterMs, IDLE_RETRY_MS)), reason };
}

function toTask(jobId: string, claim: Extract<ClaimResult, { kind: "task" }>): Task {
  return {
    jobId,
    round: claim.round,
    ticket: claim.ticket,
    modelHash: claim.modelHash,
    modelUrl: `/v1/models/${claim.modelHash}`,
    uploadUrl: `/v1/jobs/${jobId}/rounds/${claim.round}/updates`,
    model: claim.spec.model,
    plan: claim.spec.plan,
    deadline: claim.deadline,
  };
}
