import { RoundSlots, reportsNeeded } from "../job/round-slots.js";
import { attemptDemand, nextRoundDemand, starvedFailure, type ScarcityPlan } from "../job/scarcity-plan.js";
import type { JobView } from "../scheduling/policies/index.js";
import { SECONDS_PER_SAMPLE_PER_MS } from "./devices.js";
import type { InvariantMonitor } from "./invariant-monitor.js";
import type { SimStats } from "./metrics.js";
import type { SimJobSpec } from "./workload.js";

/** A job while it runs: its spec, the view the policy sees, and the slots of its current round attempt. */
export interface RunJob {
  index: number;
  spec: SimJobSpec;
  view: JobView;
  round: number;
  attempt: number;
  /** The demand of the current attempt: the spec's, or less once the job's scarcity plan shrank it. */
  demand: number;
  /** Unique over the run: events of ended attempts are recognised and dropped. */
  attemptSeq: number;
  slots: RoundSlots;
  openedAt: number;
  selectionEnded: boolean;
  /** Device-seconds of the reports accepted in this attempt: useful only if it aggregates. */
  pendingUseful: number;
  completedAt: number | null;
  /** Not admitted (its eligible devices cannot make its minimum): no attempt is open, none is held. */
  waiting: boolean;
  /** Seconds spent waiting so far, and since when it waits (null while it runs an attempt). */
  waitedS: number;
  waitingSince: number | null;
  /** When the job's last round closed (its arrival before any did): how long it has gone without progress. */
  lastClosedAt: number;
  /** Why the job failed (its owner's time limit ran out), when it did; it runs no more rounds. */
  failure: string | null;
  attempts: number;
}

const ms = (seconds: number) => seconds * 1000;

/**
 * The jobs' rounds in a simulation, on the server's round-slot rules: an attempt opens with
 * ceil(demand x over-commit) slots, binds until its selection timeout (and is retried at once if
 * too few devices were bound to ever reach the minimum), closes as soon as demand has reported,
 * and at selection + report timeout aggregates with enough reports or is retried.
 *
 * With admission (`admits`, see scheduling/admission.ts), an attempt opens only for a job that is
 * admitted; one that is not waits, holding nothing, and is looked at again with each new supply
 * sample (`review`), which also ends early an attempt still selecting whose job is no longer
 * admitted, releasing its devices (`release`).
 */
export class Rounds {
  readonly jobs: RunJob[];
  /** Running jobs, and their views in the same order (what the policy sees). */
  running: RunJob[] = [];
  views: JobView[] = [];
  /** Jobs that ended: completed, or failed by their scarcity plan's time limit. */
  done = 0;
  private attemptSeq = 0;
  private readonly byId = new Map<string, RunJob>();

  constructor(
    specs: readonly SimJobSpec[],
    private readonly minReportFraction: number,
    private readonly stats: SimStats,
    private readonly monitor: InvariantMonitor,
    /** Schedules the end of an attempt's selection or its deadline, tagged with its sequence number. */
    private readonly schedule: (time: number, what: "selection" | "deadline", job: number, attemptSeq: number) => void,
    /** Whether the job may open an attempt now (null: admission off, every attempt opens). */
    private readonly admits: ((job: RunJob) => boolean) | null = null,
    /** The devices bound to an attempt that ended early go free (they stop their tasks). */
    private readonly release: (job: RunJob, attemptSeq: number, t: number) => void = () => undefined,
    /** What every job does when its rounds cannot fill (see job/scarcity-plan.ts). */
    private readonly scarcity?: ScarcityPlan,
  ) {
    this.jobs = specs.map((spec, index) => {
      const view: JobView = {
        id: spec.id, arrivedAt: ms(spec.arrivalS), constraints: spec.constraints, openSlots: 0, demand: spec.demand,
        overCommit: spec.overCommit, remainingRounds: spec.rounds, priority: 1, roundKey: "", attempt: 0,
        selectionSeconds: spec.selectionTimeoutS, secondsPerSpeedUnit: SECONDS_PER_SAMPLE_PER_MS * spec.samplesPerTask,
        minimum: reportsNeeded({ demand: spec.demand, minReportFraction }),
      };
      const job: RunJob = { index, spec, view, round: 1, attempt: 0, demand: spec.demand, attemptSeq: 0, slots: new RoundSlots({ demand: 1, overCommit: 1, minReportFraction: 1 }, 0), openedAt: 0, selectionEnded: true, pendingUseful: 0, completedAt: null, waiting: false, waitedS: 0, waitingSince: null, lastClosedAt: spec.arrivalS, failure: null, attempts: 0 };
      this.byId.set(spec.id, job);
      return job;
    });
  }

  byView(view: JobView): RunJob {
    return this.byId.get(view.id)!;
  }

  arrive(job: RunJob, t: number): void {
    this.running = [...this.running, job];
    this.views = this.running.map((j) => j.view);
    this.openAttempt(job, t);
  }

  /** A device's report at `t` for attempt `attemptSeq`, after `seconds` of work; true if it counted. */
  report(job: RunJob, attemptSeq: number, clientId: string, seconds: number, t: number): boolean {
    if (job.waiting || job.attemptSeq !== attemptSeq || job.slots.report(clientId, ms(t)) !== "accepted") return false;
    job.pendingUseful += seconds;
    if (job.slots.status === "aggregating") this.close(job, t, true);
    return true;
  }

  /** A device took the last free slot at `t`: the attempt's selection is over. */
  filled(job: RunJob, t: number): void {
    job.view.openSlots = job.slots.open(ms(t));
    if (job.view.openSlots === 0) this.endSelection(job, t);
  }

  /**
   * A new supply sample: waiting jobs that are admitted now open their attempt; an attempt still
   * selecting whose job is no longer admitted ends, and its job waits.
   */
  review(t: number): void {
    if (!this.admits) return;
    for (const job of [...this.running]) {
      if (job.waiting) {
        if (this.admits(job)) this.openAttempt(job, t);
        else {
          const failure = starvedFailure(this.scarcity, ms(job.lastClosedAt), ms(t), "held back by admission: too few eligible devices online");
          if (failure) this.end(job, t, failure);
        }
      } else if (!job.selectionEnded && job.slots.status === "open" && !this.admits(job)) {
        this.close(job, t, false);
      }
    }
  }

  selectionTimeout(job: RunJob, attemptSeq: number, t: number): void {
    if (job.waiting || job.attemptSeq !== attemptSeq || job.slots.status !== "open") return;
    job.slots.closeSelection();
    job.view.openSlots = 0;
    this.endSelection(job, t);
    // Fewer devices than the deadline needs: the attempt cannot succeed, so retry it now.
    if (job.slots.held(ms(t)) < job.slots.needed) this.close(job, t, false);
  }

  deadline(job: RunJob, attemptSeq: number, t: number): void {
    if (job.waiting || job.attemptSeq !== attemptSeq || job.slots.status !== "open") return;
    this.close(job, t, job.slots.atDeadline() === "aggregate");
  }

  private openAttempt(job: RunJob, t: number): void {
    const { spec } = job;
    job.view.remainingRounds = spec.rounds - job.round + 1;
    job.view.attempt = job.attempt;
    if (this.admits && !this.admits(job)) {
      if (!job.waiting) (job.waiting = true), (job.waitingSince = t);
      job.slots.closeSelection();
      job.view.openSlots = 0;
      return;
    }
    if (job.waiting) {
      job.waiting = false;
      job.waitedS += t - job.waitingSince!;
      job.waitingSince = null;
    }
    job.attemptSeq = ++this.attemptSeq;
    job.attempts += 1;
    job.slots = new RoundSlots({ demand: job.demand, overCommit: spec.overCommit, minReportFraction: this.minReportFraction }, ms(t + spec.selectionTimeoutS + spec.reportTimeoutS));
    job.openedAt = t;
    job.selectionEnded = false;
    job.pendingUseful = 0;
    job.view.openSlots = job.slots.capacity;
    job.view.roundKey = `${job.round}/${job.attempt}`;
    this.monitor.openAttempt(String(job.attemptSeq), job.demand, spec.overCommit);
    this.schedule(t + spec.selectionTimeoutS, "selection", job.index, job.attemptSeq);
    this.schedule(t + spec.selectionTimeoutS + spec.reportTimeoutS, "deadline", job.index, job.attemptSeq);
  }

  private endSelection(job: RunJob, t: number): void {
    if (job.selectionEnded) return;
    job.selectionEnded = true;
    this.stats.delays.push(t - job.openedAt);
  }

  private close(job: RunJob, t: number, success: boolean): void {
    this.endSelection(job, t);
    this.monitor.closeAttempt(String(job.attemptSeq));
    if (!success) {
      this.stats.wasted += job.pendingUseful;
      this.stats.retries += 1;
      if (this.admits) this.release(job, job.attemptSeq, t);
      const failure = starvedFailure(this.scarcity, ms(job.lastClosedAt), ms(t), `round ${job.round} retried ${job.attempt + 1} times`);
      if (failure) return this.end(job, t, failure);
      job.attempt += 1;
      this.setDemand(job, attemptDemand(this.scarcity, job.demand, job.attempt));
      this.openAttempt(job, t);
      return;
    }
    this.stats.useful += job.pendingUseful;
    this.stats.roundsDone += 1;
    job.lastClosedAt = t;
    if (job.round >= job.spec.rounds) return this.end(job, t, null);
    job.round += 1;
    job.attempt = 0;
    this.setDemand(job, nextRoundDemand(this.scarcity, job.spec.demand, job.demand));
    this.openAttempt(job, t);
  }

  private setDemand(job: RunJob, demand: number): void {
    job.demand = demand;
    job.view.demand = demand;
    job.view.minimum = reportsNeeded({ demand, minReportFraction: this.minReportFraction });
  }

  /** The job completed (no failure) or failed: it runs no more rounds. */
  private end(job: RunJob, t: number, failure: string | null): void {
    if (failure === null) job.completedAt = t;
    else job.failure = failure;
    job.waiting = false;
    this.done += 1;
    this.running = this.running.filter((j) => j !== job);
    this.views = this.running.map((j) => j.view);
  }
}
