/**
 * What an owner lets a job do when its rounds cannot fill (the plan's `scarcity`), free of storage
 * and platform: the job's state machine (`JobCore`) and the simulator apply the same two rules.
 *
 * - Smaller rounds: from the `shrinkAfterAttempts`-th failed attempt of a round on, each further
 *   attempt asks for half the devices of the one before (rounded up), never fewer than
 *   `minClientsPerRound`. The round's next attempt needs fewer reports, so it can close with the
 *   devices there are; the next round asks for the full demand again, unless
 *   `keepShrunkDemand`: then the job lowers its demand to what the smaller round closed with.
 * - A time limit: a job that has closed no round for `failAfterSeconds` (since it started, or
 *   since its last round closed) fails, saying why, instead of waiting for devices for ever.
 */
export interface ScarcityPlan {
  shrinkAfterAttempts?: number;
  keepShrunkDemand?: boolean;
  minClientsPerRound?: number;
  failAfterSeconds?: number;
}

/** The demand of a round's attempt `attempt` (0 for the first), whose previous attempt asked for `previous`. */
export function attemptDemand(plan: ScarcityPlan | undefined, previous: number, attempt: number): number {
  const after = plan?.shrinkAfterAttempts;
  if (after === undefined || attempt < after) return previous;
  return Math.max(Math.min(plan?.minClientsPerRound ?? 1, previous), Math.ceil(previous / 2));
}

/** The demand of the job's rounds after one closed with `closed` devices, when they asked for `planned`. */
export function nextRoundDemand(plan: ScarcityPlan | undefined, planned: number, closed: number): number {
  return plan?.keepShrunkDemand && closed < planned ? closed : planned;
}

/** Why the job fails at `now` (ms), having closed no round since `since` (ms), or null while it may go on. */
export function starvedFailure(plan: ScarcityPlan | undefined, since: number, now: number, why: string): string | null {
  const limit = plan?.failAfterSeconds;
  if (limit === undefined || now - since < limit * 1000) return null;
  return `no round closed for ${Math.round((now - since) / 1000)} s (the job's limit is ${limit} s): ${why}`;
}
