import type { FailureCode, JobEventDraft, JobState, RoundRecord } from "@propius/shared";
import type { JobRecord } from "./job-store.js";

/**
 * The job's events, derived by comparing what it stored before and after one call (a claim, a
 * group of folds, an alarm...): the state machine stays free of publishing, and a call that
 * changed nothing publishes nothing. Only the rounds a call can touch are read: the current
 * attempt and the one whose result devices evaluate, before and after.
 */
export interface JobView {
  state: JobState;
  current: RoundKey;
  evaluating: RoundKey | null;
  /** Copies of the records of `current` and `evaluating` (the store's may be changed in place later). */
  rounds: RoundRecord[];
}

export interface RoundKey {
  round: number;
  attempt: number;
}

export interface JobReader {
  job(): JobRecord | null;
  round(round: number, attempt: number): RoundRecord | null;
}

/**
 * What the job holds now, copied: null before it exists. `since`: an earlier view, whose rounds are
 * read again too (the round that closed is no longer the current one).
 */
export function viewOf(read: JobReader, since?: JobView | null): JobView | null {
  const job = read.job();
  if (!job) return null;
  const current = { round: job.round, attempt: job.attempt };
  const evaluating = job.evaluating ? { ...job.evaluating } : null;
  const keys = uniqueKeys([current, evaluating, since?.current ?? null, since?.evaluating ?? null]);
  const rounds = keys.map((k) => read.round(k.round, k.attempt)).filter((r): r is RoundRecord => r !== null);
  return { state: job.state, current, evaluating, rounds: structuredClone(rounds) };
}

/** The events between two views of the job, in the order they happened. */
export function diffViews(before: JobView | null, after: JobView | null): JobEventDraft[] {
  if (!before || !after) return [];
  const drafts: JobEventDraft[] = [];
  const stateChanged: JobEventDraft | null = before.state === after.state ? null : { type: "state_changed", from: before.state, to: after.state };
  // A job that starts running says so before its first round opens; one that ends, after its last round closed.
  if (stateChanged && after.state === "running") drafts.push(stateChanged);
  const keys = uniqueKeys([before.current, before.evaluating, after.current, after.evaluating]);
  for (const key of keys) {
    const was = find(before.rounds, key);
    const now = find(after.rounds, key);
    if (now) drafts.push(...roundEvents(was, now));
  }
  if (stateChanged && after.state !== "running") drafts.push(stateChanged);
  return drafts;
}

function roundEvents(was: RoundRecord | null, now: RoundRecord): JobEventDraft[] {
  const { round, attempt } = now;
  const drafts: JobEventDraft[] = [];
  if (!was && now.round > 0) drafts.push({ type: "round_opened", round, attempt, demand: now.demand, baseModel: now.baseModel });
  for (let bound = (was?.bound ?? 0) + 1; bound <= now.bound; bound++) drafts.push({ type: "device_bound", round, attempt, bound, demand: now.demand });
  for (let reported = (was?.reported ?? 0) + 1; reported <= now.reported; reported++) drafts.push({ type: "update_accepted", round, attempt, reported, demand: now.demand });
  for (const code of newFailures(was?.failed ?? {}, now.failed)) drafts.push({ type: "device_failed", round, attempt, code, evaluation: false });
  for (const code of newFailures(was?.evaluation?.failed ?? {}, now.evaluation?.failed ?? {})) drafts.push({ type: "device_failed", round, attempt, code, evaluation: true });
  if (was?.status !== now.status) {
    if (now.status === "retried") drafts.push({ type: "round_retried", round, attempt, reported: now.reported, timedOut: now.timedOut });
    if (now.status === "closed") drafts.push({ type: "round_closed", round, attempt, record: structuredClone(now) });
  }
  const evaluation = now.evaluation;
  if (evaluation?.status === "closed" && was?.evaluation?.status !== "closed") {
    drafts.push({ type: "evaluation_recorded", round, by: "devices", accuracy: evaluation.accuracy, loss: evaluation.loss, reported: evaluation.reported });
  }
  return drafts;
}

/** One code per failure added between the two counts. */
function newFailures(was: Partial<Record<FailureCode, number>>, now: Partial<Record<FailureCode, number>>): FailureCode[] {
  const codes: FailureCode[] = [];
  for (const [code, n] of Object.entries(now) as [FailureCode, number][]) for (let i = was[code] ?? 0; i < n; i++) codes.push(code);
  return codes;
}

function uniqueKeys(keys: (RoundKey | null)[]): RoundKey[] {
  const seen = new Map<string, RoundKey>();
  for (const key of keys) if (key && key.round > 0) seen.set(`${key.round}/${key.attempt}`, key);
  return [...seen.values()].sort((a, b) => a.round - b.round || a.attempt - b.attempt);
}

function find(rounds: RoundRecord[], key: RoundKey): RoundRecord | null {
  return rounds.find((r) => r.round === key.round && r.attempt === key.attempt) ?? null;
}
