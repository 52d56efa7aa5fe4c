import {
  PropiusError,
  createStrategy,
  type AnyRoundStrategy,
  stalenessWeight,
  stepInSlices,
  type BaseValues,
  type FedBuffStrategy,
  type TensorSpec,
  type StrategyState,
  type JobSpec,
  type JobStatus,
  type JobUpdate,
  type RoundRecord,
  type UpdateReceipt,
  type TaskFailure,
  type EvaluationReport,
  type Attributes,
  type JobDevice,
  LASTING_FAILURES,
  withDerivedDefaults,
  checkKeptUpdates,
  initialBound,
  nextBound,
  parameterCount,
  robustnessOf,
  addGaussianNoise,
  countNoiseOf,
  cryptoUniform,
  gaussian,
  gaussianEpsilon,
  sumNoiseMultiplier,
} from "@propius/shared";
import type { Deadlines } from "./deadlines.js";
import type { Tickets } from "../auth/tickets.js";
import { deviceIds, type DeviceIds } from "../auth/device-ids.js";
import type { CommittedGroup, FoldRecord, JobDescription, SecureBound } from "../aggregation/shard-ports.js";
import type { Reply } from "./reply.js";
import type { Assignment, EvaluationAssignment, JobRecord, JobStore } from "./job-store.js";
import type { Admission, Folded, PartialKey } from "../aggregation/partial-sum.js";
import { aggregatorShards, shardOf } from "../aggregation/shards.js";
import { decideClaim, demandMet, leaseLive, outcomeAtDeadline, reportsNeeded, slotCapacity } from "./round-slots.js";
import { attemptDemand, nextRoundDemand, starvedFailure } from "./scarcity-plan.js";
import { addFailure, addReport, closeEvaluation, evaluationCapacity, evaluationComplete, evaluationDue, openEvaluation } from "./evaluation.js";

/** Deadline names multiplexed onto the job's alarm. */
export const ROUND_DEADLINE = "round";
export const AGGREGATE_DEADLINE = "aggregate";
export const EVALUATION_DEADLINE = "evaluation";
/** The end of a round attempt's selection window (set when the plan has a selection timeout). */
export const SELECTION_DEADLINE = "selection";

export type ClaimResult =
  | { kind: "task"; ticket: string; round: number; attempt: number; modelHash: string; deadline: number; spec: JobSpec; evaluate?: true }
  | { kind: "wait"; reason: "job_not_running" | "round_full" | "already_reported" | "aggregating" | "evaluating" | "selection_closed" | "task_failed"; retryAfterMs: number };

/** The round's partial sums, combined: what the job's strategy turns into the next model. */
export interface CombinedSum {
  sum: Float32Array;
  weight: number;
  examples: number;
  count: number;
  /** Updates within the round's norm bound (jobs that bound norms). */
  belowBound: number;
}

export interface JobCoreOptions {
  /** A new random ticket id. */
  newTicket: () => string;
  /** Signs training tickets, so that the device's aggregator shard can check an upload by itself. */
  tickets: Tickets;
  /** Names devices to the job's owner; tests and the simulator may leave it to a key of their own. */
  deviceIds?: DeviceIds;
  /** Uniform values in (0, 1) for the Gaussian noise of private jobs (default: WebCrypto's generator). */
  uniform?: () => number;
}

const IN_PROCESS_DEVICE_IDS = deviceIds("propius in-process device ids");

/**
 * The job's round state machine, free of any platform import: it binds devices to the current
 * round up to demand x over-commit, folds their deltas into a running FedAvg sum, closes a round
 * when demand is met or its deadline passes with enough reports (else retries it), and advances
 * the model. Every acknowledged change is written through the injected store in one transaction.
 */
export class JobCore {
  constructor(
    private readonly store: JobStore,
    private readonly deadlines: Deadlines,
    private readonly options: JobCoreOptions,
  ) {}

  create(input: { id: string; tenant: string; spec: JobSpec; now: number }): JobRecord {
    if (this.store.loadJob()) throw new PropiusError("conflict", `job ${input.id} already exists`);
    // The shard count is fixed for the job's life: a device's partial sum never moves mid-round.
    const derived = withDerivedDefaults(input.spec);
    const spec = { ...derived, plan: { ...derived.plan, aggregatorShards: aggregatorShards(derived.plan) } };
    checkKeptUpdates(robustnessOf(spec), parameterCount(spec.model.weightSpecs), spec.plan);
    const job: JobRecord = {
      id: input.id, tenant: input.tenant, spec, state: "pending_model",
      createdAt: input.now, updatedAt: input.now, round: 0, attempt: 0, modelVersion: 0, modelHash: null,
    };
    this.store.saveJob(job);
    return job;
  }

  /** The job, if `tenant` owns it; another tenant sees the same error as for a missing job. */
  jobFor(tenant: string | null): JobRecord {
    const job = this.store.loadJob();
    if (!job || (tenant !== null && job.tenant !== tenant)) throw new PropiusError("job_not_found", "no such job");
    return job;
  }

  /** Sets version 0 of the model and opens round 1. */
  setInitialModel(hash: string, now: number): JobRecord {
    const job = this.jobFor(null);
    if (job.state !== "pending_model") throw new PropiusError("model_already_set", "the job's initial model is already set");
    return this.store.transaction(() => {
      job.modelHash = hash;
      job.state = "running";
      return this.openRound(job, 1, 0, now);
    });
  }

  /** `attributes`: what the device reported at check-in, kept in its record when it is bound. */
  claim(clientId: string, now: number, attributes?: Attributes): ClaimResult {
    const job = this.store.loadJob();
    if (!job || job.state !== "running") return { kind: "wait", reason: "job_not_running", retryAfterMs: 10_000 };
    // A device that could not run this job's tasks (a missing kernel, data that does not fit) is not bound to it again.
    if (this.store.findFailures(clientId, LASTING_FAILURES).length > 0) return { kind: "wait", reason: "task_failed", retryAfterMs: 60_000 };
    const evaluation = this.claimEvaluation(job, clientId, now, attributes);
    if (evaluation) return evaluation;
    const round = this.currentRound(job);
    const deadline = this.deadlines.get(ROUND_DEADLINE) ?? now;
    if (round.status === "closed") return { kind: "wait", reason: "evaluating", retryAfterMs: 1_000 };
    if (round.status !== "open") return { kind: "wait", reason: "aggregating", retryAfterMs: 1_000 };
    if (isBuffered(job)) return this.claimBuffered(job, clientId, now, attributes);
    const { plan } = job.spec;
    const found = this.store.findAssignment(clientId, job.round, job.attempt);
    // One that failed for another reason may try again in the next round (or attempt).
    if (found?.status === "failed") return { kind: "wait", reason: "task_failed", retryAfterMs: Math.min(Math.max(deadline - now, 1_000), 10_000) };
    // A device whose lease ran out without a report holds nothing; it may bind again, for a new lease.
    const existing = found && (found.status === "reported" || leaseLive(found, now)) ? { ...found, status: found.status } : null;
    if (!existing && plan.selectionTimeoutSeconds !== undefined && now > round.openedAt + plan.selectionTimeoutSeconds * 1000) {
      return { kind: "wait", reason: "selection_closed", retryAfterMs: Math.min(Math.max(deadline - now, 1_000), 10_000) };
    }
    const decision = decideClaim({
      existing,
      held: existing ? 0 : this.store.countHeld(job.round, job.attempt, now),
      capacity: slotCapacity({ demand: round.demand, overCommit: plan.overCommit }),
      deadline,
      now,
      leaseMs: plan.leaseSeconds === undefined ? undefined : plan.leaseSeconds * 1000,
    });
    // The round can close at any report; a device that has done its part is wanted in the next one.
    if (decision.kind === "wait") return decision;
    if (decision.kind === "keep") return this.task(job, existing!);
    const assignment: Assignment = { ticket: found?.ticket ?? this.options.newTicket(), clientId, round: job.round, attempt: job.attempt, status: "bound", boundAt: now, leaseUntil: decision.leaseUntil };
    this.store.transaction(() => {
      this.store.saveAssignment(assignment);
      // A new lease in the same attempt is the same round to the device's record.
      this.store.addToDevice({ clientId, at: now, attributes, roundsBound: found ? 0 : 1 });
      if (!found) this.store.saveRound(withBinding(round, now));
    });
    return this.task(job, assignment);
  }

  /**
   * An evaluation task, when the job evaluates a round's result and this device may take part:
   * it has not evaluated that model yet, is not training in the round that runs beside it, and the
   * evaluation has room (its demand times the over-commit). A device bound to it gets it again.
   */
  private claimEvaluation(job: JobRecord, clientId: string, now: number, attributes: Attributes | undefined): ClaimResult | null {
    const open = this.openEvaluation(job);
    if (!open) return null;
    const { record, evaluation } = open;
    const mine = this.store.findEvaluationAssignment(clientId, record.round);
    if (mine) return mine.status === "bound" && leaseLive(mine, now) ? this.evaluationTask(job, record, evaluation.model, mine.ticket, mine.leaseUntil) : null;
    if (job.round !== record.round) {
      const training = this.store.findAssignment(clientId, job.round, job.attempt);
      if (training && training.status !== "failed" && (training.status === "reported" || leaseLive(training, now))) return null;
    }
    if (this.store.countEvaluationsHeld(record.round, now) >= evaluationCapacity(evaluation, job.spec.plan.overCommit)) return null;
    const leaseUntil = this.deadlines.get(EVALUATION_DEADLINE) ?? now;
    const ticket = this.options.newTicket();
    this.store.transaction(() => {
      this.store.saveEvaluationAssignment({ ticket, clientId, round: record.round, status: "bound", boundAt: now, leaseUntil });
      this.store.addToDevice({ clientId, at: now, attributes });
      this.store.saveRound({ ...record, evaluation: { ...evaluation, bound: evaluation.bound + 1 } });
    });
    return this.evaluationTask(job, record, evaluation.model, ticket, leaseUntil);
  }

  /** A device's evaluation of a round's result; the evaluation closes when its demand has reported. A repeat answers as the first. */
  reportEvaluation(input: { ticket: string; clientId: string; round: number; report: EvaluationReport }, now: number): RoundRecord {
    const job = this.jobFor(null);
    const assignment = this.store.loadEvaluationAssignment(input.ticket);
    if (!assignment || assignment.clientId !== input.clientId || assignment.round !== input.round) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    const record = this.closedRound(assignment.round);
    if (assignment.status === "reported") return record;
    if (assignment.status === "failed") throw new PropiusError("ticket_used", "this task was reported as failed");
    const open = this.openEvaluation(job);
    if (!open || open.record.round !== assignment.round || !leaseLive(assignment, now)) {
      throw new PropiusError("round_closed", `the evaluation of round ${assignment.round} is closed; the report is stale`);
    }
    return this.store.transaction(() => {
      this.store.saveEvaluationAssignment({ ...assignment, status: "reported" });
      this.store.addToDevice({ clientId: assignment.clientId, at: now, evaluations: 1 });
      const updated = { ...record, evaluation: addReport(open.evaluation, input.report) };
      this.store.saveRound(updated);
      if (evaluationComplete(updated.evaluation)) return this.finishEvaluation(job, updated, now);
      this.touch(job, now);
      return updated;
    });
  }

  /** The evaluation the job runs now, and the closed round whose result it evaluates. */
  private openEvaluation(job: JobRecord) {
    if (!job.evaluating) return null;
    const record = this.store.loadRound(job.evaluating.round, job.evaluating.attempt);
    const evaluation = record?.evaluation;
    return record && evaluation?.status === "open" ? { record, evaluation } : null;
  }

  /** Closes an evaluation with the reports it has; after the last round's, the job is done. */
  private finishEvaluation(job: JobRecord, record: RoundRecord, now: number): RoundRecord {
    const closed = { ...record, evaluation: closeEvaluation(record.evaluation!, now) };
    this.store.saveRound(closed);
    job.evaluating = null;
    this.deadlines.clear(EVALUATION_DEADLINE);
    if (record.round >= job.spec.plan.rounds) {
      job.state = "done";
      this.deadlines.clearAll();
    }
    this.touch(job, now);
    return closed;
  }

  /** The closed attempt of `round`. */
  private closedRound(round: number): RoundRecord {
    const closed = this.store.loadRounds().find((r) => r.round === round && r.status === "closed");
    if (!closed) throw new PropiusError("internal", `no closed record of round ${round}`);
    return closed;
  }

  private evaluationTask(job: JobRecord, { round, attempt }: RoundRecord, model: string, ticket: string, deadline: number): ClaimResult {
    return { kind: "task", ticket, round, attempt, modelHash: model, deadline, spec: job.spec, evaluate: true };
  }

  /**
   * Asynchronous (FedBuff) jobs: no round to fill, only how many devices train at once
   * (ceil(clientsPerRound x overCommit) live leases, whatever step they started from). A device
   * keeps its live task; once it has reported it may take another at once, from the current model.
   */
  private claimBuffered(job: JobRecord, clientId: string, now: number, attributes: Attributes | undefined): ClaimResult {
    const { plan } = job.spec;
    const live = this.store.findLiveAssignment(clientId, now);
    if (live) return this.task({ ...job, modelHash: this.store.loadRound(live.round, live.attempt)?.baseModel ?? job.modelHash }, live);
    if (this.store.countLive(now) >= slotCapacity({ demand: plan.clientsPerRound, overCommit: plan.overCommit })) {
      return { kind: "wait", reason: "round_full", retryAfterMs: 2_000 };
    }
    const leaseUntil = now + (plan.leaseSeconds ?? plan.roundDeadlineSeconds) * 1000;
    const assignment: Assignment = { ticket: this.options.newTicket(), clientId, round: job.round, attempt: job.attempt, status: "bound", boundAt: now, leaseUntil };
    const round = this.currentRound(job);
    this.store.transaction(() => {
      this.store.saveAssignment(assignment);
      this.store.addToDevice({ clientId, at: now, attributes, roundsBound: 1 });
      this.store.saveRound(withBinding(round, now));
    });
    return this.task(job, assignment);
  }

  /** Changes the demand of the rounds that open from now on; the current round keeps its own. */
  update(change: JobUpdate, now: number): JobRecord {
    const job = this.jobFor(null);
    if (job.state === "done" || job.state === "cancelled" || job.state === "failed") throw new PropiusError("job_not_running", `the job is ${job.state}`);
    const plan = { ...job.spec.plan, clientsPerRound: change.clientsPerRound };
    checkKeptUpdates(robustnessOf(job.spec), parameterCount(job.spec.model.weightSpecs), plan);
    job.spec = { ...job.spec, plan };
    this.touch(job, now);
    return job;
  }

  /**
   * Checks an upload's ticket before its body is read: the job's leave for the device's aggregator
   * shard to fold it into the current round attempt (for FedBuff, the current server step).
   */
  admitUpdate(input: { ticket: string; clientId: string; round: number }, now: number): Admission {
    const job = this.jobFor(null);
    const assignment = this.assignmentOf(input);
    if (assignment.status === "reported") throw new PropiusError("ticket_used", "an update for this ticket was already accepted");
    if (assignment.status === "failed") throw new PropiusError("ticket_used", "this task was reported as failed; its slot went to another device");
    const round = this.currentRound(job);
    const { aggregation } = job.spec;
    // An asynchronous job takes updates trained from earlier models too, discounted by staleness.
    const current = aggregation.strategy === "fedbuff" ? assignment.round <= job.round : assignment.round === job.round && assignment.attempt === job.attempt;
    if (job.state !== "running" || !current || round.status !== "open" || !leaseLive(assignment, now)) {
      throw new PropiusError("round_closed", `round ${assignment.round} is closed; the update is stale`);
    }
    return {
      ticket: assignment.ticket,
      key: { round: job.round, attempt: job.attempt },
      shard: shardOf(input.clientId, shardCount(job)),
      weighting: aggregation.weighting,
      weightScale: aggregation.strategy === "fedbuff" ? stalenessWeight(job.round - assignment.round, aggregation.stalenessExponent) : 1,
      weightSpecs: job.spec.model.weightSpecs,
    };
  }

  /**
   * Counts a group of updates an aggregator shard has folded and written in one write, in one
   * transaction, and closes the round when demand is met: one answer per update. An update the
   * round's seal or deadline already counted answers as the first time did; a retried upload of
   * one counted before is `ticket_used`; a fold into an attempt the job discarded is `round_closed`.
   */
  commitFolds(records: FoldRecord[], now: number): CommittedGroup {
    const job = this.jobFor(null);
    return this.store.transaction(() => {
      const before = job.updatedAt;
      let counted = false;
      const answers = records.map((r): Reply<UpdateReceipt> => {
        try {
          const reported = this.store.loadAssignment(r.folded.ticket)?.status === "reported";
          const value = this.commitOne(job, r, now);
          counted ||= !reported;
          return { ok: true, value };
        } catch (error) {
          if (error instanceof PropiusError) return { ok: false, ...error.toBody() };
          throw error;
        }
      });
      // Nothing counted (every update refused or counted before): the job is left as it was.
      if (counted) this.touch(job, now);
      else job.updatedAt = before;
      // The shard seals the attempt at once when it stops taking updates, before the job's seal arrives.
      const closed = records.some((r) => this.store.loadRound(r.key.round, r.key.attempt)?.status !== "open");
      return { answers, closed };
    });
  }

  private commitOne(job: JobRecord, input: FoldRecord, now: number): UpdateReceipt {
    const assignment = this.store.loadAssignment(input.folded.ticket);
    const record = this.store.loadRound(input.key.round, input.key.attempt);
    if (!assignment || assignment.clientId !== input.clientId || !record) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    if (assignment.status === "reported") {
      if (input.repeat) throw new PropiusError("ticket_used", "an update for this ticket was already accepted");
      return receipt(job, record);
    }
    // A device that reported it could not do the task and then delivered all the same: its update is in
    // the shard's sum, so it counts (as the seal would count it), though its slot went to another device.
    // The fold landed in a partial sum the job discarded (a retried attempt) or will never take.
    if (job.state !== "running" || record.status === "retried") throw new PropiusError("round_closed", `round ${record.round} is closed; the update is stale`);
    const updated = this.count(record, assignment, input.folded, now);
    if (updated.status === "open" && demandMet(updated.reported, updated)) this.startAggregation(updated, now);
    this.store.saveRound(updated);
    return receipt(job, updated);
  }

  /**
   * A bound device reports it cannot do its task: its slot is free at once for another device, and
   * the round's record counts the failure by code. A repeat answers as the first did.
   */
  reportFailure(input: { ticket: string; clientId: string; round: number; failure: TaskFailure }, now: number): RoundRecord {
    const job = this.jobFor(null);
    const evaluating = this.store.loadEvaluationAssignment(input.ticket);
    if (evaluating && evaluating.clientId === input.clientId && evaluating.round === input.round) return this.failEvaluation(job, evaluating, input.failure, now);
    const assignment = this.assignmentOf(input);
    const record = this.store.loadRound(assignment.round, assignment.attempt);
    if (!record) throw new PropiusError("internal", `no record of round ${assignment.round} attempt ${assignment.attempt}`);
    if (assignment.status === "failed") return record;
    if (assignment.status === "reported") throw new PropiusError("ticket_used", "an update for this ticket was already accepted");
    const { code, message } = input.failure;
    return this.store.transaction(() => {
      this.store.saveAssignment({ ...assignment, status: "failed" });
      this.store.saveFailure({ clientId: input.clientId, round: assignment.round, attempt: assignment.attempt, code, message, at: now });
      this.store.addToDevice({ clientId: input.clientId, at: now, failure: code });
      const updated = { ...record, failed: { ...record.failed, [code]: (record.failed?.[code] ?? 0) + 1 } };
      this.store.saveRound(updated);
      this.touch(job, now);
      return updated;
    });
  }

  private failEvaluation(job: JobRecord, assignment: EvaluationAssignment, failure: TaskFailure, now: number): RoundRecord {
    const record = this.closedRound(assignment.round);
    if (assignment.status === "failed") return record;
    if (assignment.status === "reported") throw new PropiusError("ticket_used", "an evaluation for this ticket was already accepted");
    return this.store.transaction(() => {
      this.store.saveEvaluationAssignment({ ...assignment, status: "failed" });
      this.store.saveFailure({ clientId: assignment.clientId, round: assignment.round, attempt: -1, code: failure.code, message: failure.message, at: now });
      this.store.addToDevice({ clientId: assignment.clientId, at: now, failure: failure.code });
      const updated = record.evaluation ? { ...record, evaluation: addFailure(record.evaluation, failure.code) } : record;
      this.store.saveRound(updated);
      this.touch(job, now);
      return updated;
    });
  }

  /**
   * Counts the updates sealed partial sums hold that were never committed (their shard folded them,
   * then the commit was lost): whatever the shards sealed is what the round aggregates.
   */
  reconcile(key: PartialKey, folded: Folded[]): void {
    this.store.transaction(() => {
      let record = this.store.loadRound(key.round, key.attempt);
      if (!record) throw new PropiusError("internal", `no record of round ${key.round} attempt ${key.attempt}`);
      for (const f of folded) {
        const assignment = this.store.loadAssignment(f.ticket);
        // A failed task's late fold is in the sum but not counted (see commitOne). Its time is unknown: the device was seen when bound.
        if (assignment && assignment.status === "bound") record = this.count(record, assignment, f, assignment.boundAt);
      }
      this.store.saveRound(record);
    });
  }

  /**
   * The round attempt whose deadline is due at `now` and will be decided (close or retry) by the
   * alarm, if any: the job first counts what its shards folded but it never heard of, so that the
   * decision rests on every update the shards accepted.
   */
  deadlineDecisionDue(now: number): { key: PartialKey; shards: number } | null {
    const job = this.store.loadJob();
    const at = this.deadlines.get(ROUND_DEADLINE);
    if (!job || job.state !== "running" || isBuffered(job) || at === undefined || at > now) return null;
    return this.currentRound(job).status === "open" ? { key: { round: job.round, attempt: job.attempt }, shards: shardCount(job) } : null;
  }

  /** Runs the deadlines due at `now`; returns the job when its round attempt changed (a retry), else null. */
  onAlarm(now: number): JobRecord | null {
    const due = this.deadlines.takeDue(now);
    if (due.includes(EVALUATION_DEADLINE)) this.closeEvaluationAtDeadline(now);
    const job = this.store.loadJob();
    if (!job || job.state !== "running") return null;
    if (!due.includes(ROUND_DEADLINE)) return due.includes(SELECTION_DEADLINE) ? this.endSelection(job, now) : null;
    const round = this.currentRound(job);
    if (round.status !== "open") return null;
    if (isBuffered(job)) {
      // No attempt to retry: apply what the buffer holds, or wait another deadline for updates.
      if (round.reported > 0) this.store.transaction(() => (this.startAggregation(round, now), this.store.saveRound(round)));
      else this.deadlines.set(ROUND_DEADLINE, now + job.spec.plan.roundDeadlineSeconds * 1000);
      return null;
    }
    const outcome = outcomeAtDeadline(round.reported, { demand: round.demand, minReportFraction: job.spec.plan.minReportFraction });
    this.store.transaction(() => {
      if (outcome === "aggregate") {
        this.startAggregation(round, now);
        this.store.saveRound(round);
      } else {
        this.retryAttempt(job, round, now);
      }
    });
    return outcome === "retry" ? job : null;
  }

  /**
   * The selection window of an attempt has ended: no device binds to it any more, so one that
   * holds fewer slots than the reports it needs can never close. It is retried now, not at its
   * deadline: its devices are released (their reports would be refused) instead of held.
   */
  private endSelection(job: JobRecord, now: number): JobRecord | null {
    const round = this.currentRound(job);
    if (round.status !== "open" || isBuffered(job)) return null;
    const needed = reportsNeeded({ demand: round.demand, minReportFraction: job.spec.plan.minReportFraction });
    if (this.store.countHeld(round.round, round.attempt, now) >= needed) return null;
    this.store.transaction(() => this.retryAttempt(job, round, now));
    return job;
  }

  /**
   * An attempt that cannot close is retried: the next attempt opens, asking for fewer devices once
   * the plan's `scarcity` says so, unless the job has closed no round for its time limit: then it
   * fails, with the reason in its status.
   */
  private retryAttempt(job: JobRecord, round: RoundRecord, now: number): void {
    this.store.saveRound({ ...round, status: "retried", closedAt: now, timedOut: this.store.countExpired(round.round, round.attempt, now) });
    const { scarcity, minReportFraction } = job.spec.plan;
    const needed = reportsNeeded({ demand: round.demand, minReportFraction });
    const failure = starvedFailure(scarcity, this.progressSince(), now, `round ${round.round} retried ${round.attempt + 1} times, the last with ${round.reported} of the ${needed} reports it needed`);
    if (failure) {
      job.state = "failed";
      job.failure = failure;
      this.deadlines.clearAll();
      this.touch(job, now);
      return;
    }
    this.openRound(job, job.round, job.attempt + 1, now, attemptDemand(scarcity, round.demand, job.attempt + 1));
  }

  /** When the job last made progress: its latest round's close, else its first round's opening. */
  private progressSince(): number {
    let since: number | null = null;
    for (const r of this.store.loadRounds()) {
      if (r.status === "closed" && r.closedAt !== null) since = Math.max(since ?? 0, r.closedAt);
      else if (since === null && r.round === 1 && r.attempt === 0) since = r.openedAt;
    }
    return since ?? 0;
  }

  /** The demand of the attempt the job runs now, and the reports it needs: what the scheduler offers and admits by. */
  currentDemand(): { demand: number; minimum: number } | null {
    const job = this.store.loadJob();
    if (!job || job.round === 0) return null;
    const round = this.store.loadRound(job.round, job.attempt);
    if (!round) return null;
    return { demand: round.demand, minimum: reportsNeeded({ demand: round.demand, minReportFraction: job.spec.plan.minReportFraction }) };
  }

  /** An evaluation's deadline: it closes with the reports it has (its accuracy stays null if none came). */
  private closeEvaluationAtDeadline(now: number): void {
    const job = this.store.loadJob();
    const open = job && job.state === "running" ? this.openEvaluation(job) : null;
    if (job && open) this.store.transaction(() => this.finishEvaluation(job, open.record, now));
  }

  /** The record of one round attempt, if the job has it. */
  roundAttempt(round: number, attempt: number): RoundRecord | null {
    return this.store.loadRound(round, attempt) ?? null;
  }

  /** The round attempt waiting to be aggregated: its shards' partial sums are to be sealed and combined. */
  pendingAggregation(): { jobId: string; key: PartialKey; baseHash: string; shards: number; tensors: TensorSpec[] } | null {
    const job = this.store.loadJob();
    if (!job || job.state !== "running") return null;
    const round = this.currentRound(job);
    if (round.status !== "aggregating") return null;
    return { jobId: job.id, key: { round: job.round, attempt: job.attempt }, baseHash: round.baseModel, shards: shardCount(job), tensors: job.spec.model.weightSpecs };
  }

  /** Tries the pending aggregation again at `at` (after a failure to read or write the model store). */
  deferAggregation(at: number): void {
    this.deadlines.set(AGGREGATE_DEADLINE, at);
  }

  /**
   * The next model from the round's base and the combined partial sums, by the job's strategy,
   * written over `total.sum` slice by slice (see `stepInSlices`), and the strategy state to keep;
   * both are stored by `completeAggregation`, so a crash in between repeats the same step from the
   * same stored inputs. FedBuff keeps no state: its buffer is the step's partial sums.
   */
  async aggregate(base: BaseValues, total: CombinedSum): Promise<StrategyState | undefined> {
    const job = this.jobFor(null);
    if (job.spec.aggregation.strategy === "fedbuff") {
      const strategy = createStrategy(job.spec.aggregation) as FedBuffStrategy;
      // The step divides by the buffer's undiscounted weight: its examples, or its updates when they weigh alike.
      const undiscounted = job.spec.aggregation.weighting === "uniform" ? total.count : total.examples;
      const buffer = { strategy: "fedbuff" as const, steps: job.round - 1, examples: undiscounted, count: total.count };
      await stepInSlices(total.sum, {}, base, (slice, from) => ({ next: strategy.apply(slice, { ...buffer, sum: total.sum.subarray(from, from + slice.length) }).next, state: {} }));
      return undefined;
    }
    const strategy = createStrategy(job.spec.aggregation) as AnyRoundStrategy;
    const state = (this.store.loadStrategyState() ?? strategy.initialState(total.sum.length)) as Parameters<AnyRoundStrategy["aggregateTrain"]>[2];
    this.addPrivacyNoise(job, total);
    const { weight, count } = total;
    return stepInSlices(total.sum, state, base, (slice, from, stateSlice) => strategy.aggregateTrain(slice, { sum: total.sum.subarray(from, from + slice.length), weight, count }, stateSlice));
  }

  /** Records the model a round produced and opens the next round, or finishes the job. */
  /**
   * Central DP: Gaussian noise of standard deviation (noise multiplier x the round's bound) on each
   * coordinate of the round's sum of clipped updates, before the strategy's step (a repeated step,
   * after a crash before its record, draws fresh noise: only the stored model is ever released).
   */
  private addPrivacyNoise(job: JobRecord, total: CombinedSum): void {
    const { privacy, plan } = job.spec;
    const clipping = robustnessOf(job.spec).clipping;
    if (!privacy || !clipping || total.count === 0) return;
    const z = sumNoiseMultiplier(privacy.noiseMultiplier, clipping.mode === "adaptive" ? countNoiseOf(privacy, plan.clientsPerRound) : null)!;
    addGaussianNoise(total.sum, z * (job.clipBound ?? initialBound(clipping)), this.uniform);
  }

  private uniformSource: (() => number) | null = null;
  private get uniform(): () => number {
    return (this.uniformSource ??= this.options.uniform ?? cryptoUniform());
  }

  /** `clipped`: the round's updates within its norm bound, and all of them, for a job whose bound adapts. */
  completeAggregation(round: number, resultHash: string, now: number, strategyState?: StrategyState, clipped?: { belowBound: number; count: number }): JobRecord {
    const job = this.jobFor(null);
    const record = this.currentRound(job);
    if (job.round !== round || record.status !== "aggregating") throw new PropiusError("conflict", `round ${round} is not aggregating`);
    return this.store.transaction(() => {
      if (strategyState) this.store.saveStrategyState(strategyState);
      const clipping = robustnessOf(job.spec).clipping;
      const bound = clipping && (job.clipBound ?? initialBound(clipping));
      const { privacy } = job.spec;
      // A private job's adaptive bound moves on a noised count (Andrew et al.), so that it too is private.
      const below = clipped && privacy ? Math.min(clipped.count, Math.max(0, clipped.belowBound + gaussian(countNoiseOf(privacy, job.spec.plan.clientsPerRound), this.uniform))) : clipped?.belowBound;
      if (clipping?.mode === "adaptive" && clipped) job.clipBound = nextBound(clipping, bound!, { belowBound: below!, count: clipped.count });
      const clippingRecord = clipping && clipped ? { clipping: { bound: bound!, belowBound: privacy ? null : clipped.belowBound, updates: clipped.count } } : {};
      // Every closed round of a private job is one release of its noised sum: epsilon after `round` of them.
      const privacyRecord = privacy ? { privacy: { noiseMultiplier: privacy.noiseMultiplier, delta: privacy.delta, releases: round, epsilon: gaussianEpsilon(privacy.noiseMultiplier, round, privacy.delta) } } : {};
      const closed: RoundRecord = { ...record, status: "closed", closedAt: now, resultModel: resultHash, ...clippingRecord, ...privacyRecord };
      this.deadlines.clear(AGGREGATE_DEADLINE);
      job.modelHash = resultHash;
      job.modelVersion += 1;
      const evaluate = evaluationDue(job.spec, round) && !isBuffered(job);
      if (evaluate) {
        // One evaluation at a time: one still open (its devices slower than a round) closes with what it has.
        const earlier = this.openEvaluation(job);
        if (earlier) this.finishEvaluation(job, earlier.record, now);
        closed.evaluation = openEvaluation(job.spec, resultHash, now);
        job.evaluating = { round, attempt: record.attempt };
        this.deadlines.set(EVALUATION_DEADLINE, now + job.spec.evaluation!.deadlineSeconds * 1000);
      }
      this.store.saveRound(closed);
      if (round >= job.spec.plan.rounds && evaluate) {
        // The job is done when its last model has been evaluated.
        this.deadlines.clear(ROUND_DEADLINE);
        this.touch(job, now);
        return job;
      }
      if (round >= job.spec.plan.rounds) {
        job.state = "done";
        this.deadlines.clearAll();
        this.touch(job, now);
        return job;
      }
      // A job that keeps a shrunk round's demand lowers its own, as an owner's PATCH would (and may raise it again).
      const demand = isBuffered(job) ? job.spec.plan.clientsPerRound : nextRoundDemand(job.spec.plan.scarcity, job.spec.plan.clientsPerRound, record.demand);
      if (demand !== job.spec.plan.clientsPerRound) job.spec = { ...job.spec, plan: { ...job.spec.plan, clientsPerRound: demand } };
      return this.openRound(job, round + 1, 0, now);
    });
  }

  recordMetrics(round: number, metrics: { testAccuracy?: number; testLoss?: number }): RoundRecord {
    const job = this.jobFor(null);
    const closed = this.store.loadRounds().filter((r) => r.round === round && r.status === "closed");
    if (closed.length === 0) throw new PropiusError("conflict", `round ${round} of job ${job.id} has not closed`);
    const record = { ...closed[0], testAccuracy: metrics.testAccuracy ?? closed[0].testAccuracy, testLoss: metrics.testLoss ?? closed[0].testLoss };
    this.store.saveRound(record);
    return record;
  }

  cancel(now: number): JobRecord {
    const job = this.jobFor(null);
    if (job.state === "done" || job.state === "cancelled" || job.state === "failed") {
      throw new PropiusError("job_not_running", `the job is already ${job.state}`);
    }
    return this.store.transaction(() => {
      job.state = "cancelled";
      const round = job.round > 0 ? this.store.loadRound(job.round, job.attempt) : null;
      if (round && (round.status === "open" || round.status === "aggregating")) this.store.saveRound({ ...round, status: "cancelled", closedAt: now });
      this.deadlines.clearAll();
      this.touch(job, now);
      return job;
    });
  }

  status(tenant: string | null): JobStatus {
    const job = this.jobFor(tenant);
    return {
      id: job.id, tenant: job.tenant, name: job.spec.name, state: job.state,
      createdAt: job.createdAt, updatedAt: job.updatedAt, currentRound: job.round,
      totalRounds: job.spec.plan.rounds, modelVersion: job.modelVersion, modelHash: job.modelHash,
      spec: job.spec, rounds: this.store.loadRounds(),
      ...(job.failure ? { failure: job.failure } : {}),
    };
  }

  /** The devices that took part, most recently seen first (at most `limit`), each by its anonymous id. */
  /** Whether a device may read this job's model versions by hash: any device, unless the spec keeps them to the devices bound to the job. */
  mayReadModel(clientId: string): boolean {
    const job = this.jobFor(null);
    return job.spec.modelAccess !== "bound" || this.store.hasDevice(clientId);
  }

  devices(tenant: string | null, limit: number): JobDevice[] {
    const job = this.jobFor(tenant);
    const ids = this.options.deviceIds ?? IN_PROCESS_DEVICE_IDS;
    return this.store.loadDevices(limit).map((d) => ({
      id: ids(job.id, d.clientId), attributes: d.attributes, roundsBound: d.roundsBound, updatesAccepted: d.updates, examples: d.examples,
      bytesIn: d.bytesIn, failures: d.failures, evaluationsReported: d.evaluations, firstSeen: d.firstSeen, lastSeen: d.lastSeen,
    }));
  }

  /** Marks the assignment reported and adds its update's figures to the round's record and the device's. */
  private count(record: RoundRecord, assignment: Assignment, f: Folded, at: number): RoundRecord {
    this.store.saveAssignment({ ...assignment, status: "reported" });
    this.store.addToDevice({ clientId: assignment.clientId, at, updates: 1, examples: f.examples, bytesIn: f.bytesIn });
    const lossSum = (record.trainLoss ?? 0) * record.examples + (f.trainLoss ?? 0) * f.examples;
    return {
      ...record,
      reported: record.reported + 1,
      examples: record.examples + f.examples,
      trainLoss: f.trainLoss === null && record.trainLoss === null ? null : lossSum / (record.examples + f.examples),
      bytesIn: record.bytesIn + f.bytesIn,
      bytesOut: record.bytesOut + f.bytesDown,
    };
  }

  private startAggregation(round: RoundRecord, now: number): void {
    round.status = "aggregating";
    round.aggregatingAt = now;
    round.timedOut = this.store.countExpired(round.round, round.attempt, now);
    this.deadlines.clear(ROUND_DEADLINE);
    this.deadlines.set(AGGREGATE_DEADLINE, now);
  }

  private openRound(job: JobRecord, round: number, attempt: number, now: number, demand = stepDemand(job)): JobRecord {
    const deadline = now + job.spec.plan.roundDeadlineSeconds * 1000;
    job.round = round;
    job.attempt = attempt;
    this.store.saveRound({
      round, attempt, status: "open", demand, bound: 0, reported: 0, failed: {}, timedOut: 0, examples: 0,
      trainLoss: null, testAccuracy: null, testLoss: null, bytesIn: 0, bytesOut: 0, openedAt: now, selectedAt: null, aggregatingAt: null, closedAt: null,
      baseModel: job.modelHash!, resultModel: null,
    });
    this.deadlines.set(ROUND_DEADLINE, deadline);
    const selection = job.spec.plan.selectionTimeoutSeconds;
    if (selection !== undefined && !isBuffered(job) && now + selection * 1000 < deadline) this.deadlines.set(SELECTION_DEADLINE, now + selection * 1000);
    else this.deadlines.clear(SELECTION_DEADLINE);
    this.touch(job, now);
    return job;
  }

  private currentRound(job: JobRecord): RoundRecord {
    const round = this.store.loadRound(job.round, job.attempt);
    if (!round) throw new PropiusError("internal", `job ${job.id} has no record of round ${job.round}`);
    return round;
  }

  /** A training task, with its ticket signed: the claims name the assignment, its lease and the device's shard. */
  private task(job: JobRecord, a: Pick<Assignment, "ticket" | "clientId" | "round" | "attempt" | "leaseUntil">): ClaimResult {
    const ticket = this.options.tickets.sign({ id: a.ticket, jobId: job.id, clientId: a.clientId, round: a.round, attempt: a.attempt, leaseUntil: a.leaseUntil, shard: shardOf(a.clientId, shardCount(job)) });
    return { kind: "task", ticket, round: a.round, attempt: a.attempt, modelHash: job.modelHash!, deadline: a.leaseUntil, spec: job.spec };
  }

  /** The training assignment a device's ticket names, if the ticket is this job's, the device's and the round's. */
  private assignmentOf(input: { ticket: string; clientId: string; round: number }): Assignment {
    const claims = this.options.tickets.verify(input.ticket);
    const assignment = claims && this.store.loadAssignment(claims.id);
    if (!assignment || assignment.clientId !== input.clientId || assignment.round !== input.round) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    return assignment;
  }

  /** What an aggregator shard needs to know of the job, once: its tensors, its weighting, and whether it is buffered. */
  describe(): JobDescription {
    const job = this.jobFor(null);
    return { jobId: job.id, weightSpecs: job.spec.model.weightSpecs, weighting: job.spec.aggregation.weighting, buffered: isBuffered(job), robustness: robustnessOf(job.spec), secure: job.spec.secureAggregation ?? null };
  }

  /**
   * Secure aggregation: how many devices hold a slot of attempt `key` and fold into shard `shard`,
   * whether the job may still bind more (the round is open with slots free), and the shard's share
   * of the demand. A shard's group closes its roster once every one of them has joined and either
   * the job binds no more or the group holds its share.
   */
  secureBound(key: PartialKey, shard: number, now: number): SecureBound {
    const job = this.jobFor(null);
    const shards = shardCount(job);
    const held = this.store.heldBy(key.round, key.attempt, now);
    const round = this.store.loadRound(key.round, key.attempt);
    const current = job.state === "running" && job.round === key.round && job.attempt === key.attempt && round?.status === "open";
    const capacity = round ? slotCapacity({ demand: round.demand, overCommit: job.spec.plan.overCommit }) : 0;
    return {
      devices: held.filter((clientId) => shardOf(clientId, shards) === shard).length,
      selecting: current && held.length < capacity,
      wanted: Math.ceil((round?.demand ?? 0) / shards),
    };
  }

  /**
   * The norm bound of the current round (jobs with an adaptive bound; a fixed one is the spec's):
   * set when the round before it closed, so every shard folds the round's updates with the same one.
   */
  clipBound(): number {
    const job = this.jobFor(null);
    const clipping = robustnessOf(job.spec).clipping;
    if (!clipping) throw new PropiusError("conflict", "this job does not bound update norms");
    return job.clipBound ?? initialBound(clipping);
  }

  private touch(job: JobRecord, now: number): void {
    job.updatedAt = now;
    this.store.saveJob(job);
  }
}

/** What the job answers for a counted update. */
function receipt(job: JobRecord, record: RoundRecord): UpdateReceipt {
  return { accepted: true, jobId: job.id, round: record.round, reported: record.reported, demand: record.demand };
}

function shardCount(job: JobRecord): number {
  return aggregatorShards(job.spec.plan);
}

/** Whether the job aggregates asynchronously (FedBuff): a "round" is one server step of K updates. */
function isBuffered(job: JobRecord): boolean {
  return job.spec.aggregation.strategy === "fedbuff";
}

/** Updates that close a round: the plan's demand, or for FedBuff the buffer size K. */
function stepDemand(job: JobRecord): number {
  return job.spec.aggregation.strategy === "fedbuff" ? job.spec.aggregation.bufferSize : job.spec.plan.clientsPerRound;
}

/** The round with one more device bound; selection is done when the bindings reach its demand. */
function withBinding(round: RoundRecord, now: number): RoundRecord {
  const bound = round.bound + 1;
  return { ...round, bound, selectedAt: round.selectedAt ?? (bound >= round.demand ? now : null) };
}
