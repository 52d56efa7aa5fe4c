import { PropiusError, meetsConstraints, type Attributes, type CheckInReply, type EvaluationReport, type JobOffer, type Task, type TaskFailure } from "@propius/shared";
import type { DeviceClient } from "./protocol/device-client.js";
import type { WebSocketConnector } from "./protocol/push-session.js";
import { CheckInChannel, type ChannelEvent } from "./check-in-channel.js";
import { failureOf } from "./task-failure.js";
import { isOutage, jitteredBackoff, type Backoff, type OutageEvent } from "./outage.js";
import { sleep } from "./protocol/http.js";
import { secureUpload } from "./secure-upload.js";

/** What local training gives back for one task. */
export interface TrainOutcome {
  delta: Float32Array;
  examples: number;
  trainLoss: number;
}

/** Trains a task's model, starting from `weights`, on the device's own data. */
export type Trainer = (task: Task, weights: Float32Array, signal?: AbortSignal) => Promise<TrainOutcome>;

/** Evaluates an evaluation task's model (`weights`) on the examples the device holds out from training. */
export type Evaluator = (task: Task, weights: Float32Array, signal?: AbortSignal) => Promise<EvaluationReport>;

export type LoopEvent =
  | { type: "wait"; retryAfterMs: number; reason: string; via: "push" | "poll" }
  | ChannelEvent
  | { type: "offer"; offers: number; accepted: string | null }
  | { type: "task"; task: Task }
  | { type: "downloaded"; task: Task; bytes: number }
  | { type: "trained"; task: Task; outcome: TrainOutcome; millis: number }
  | { type: "uploaded"; task: Task; bytes: number; reported: number; demand: number }
  | { type: "evaluated"; task: Task; report: EvaluationReport; millis: number }
  | { type: "refused"; task: Task; code: string; message: string }
  /** The device could not do the task and told the job, which freed its slot; the loop goes on. */
  | { type: "failed"; task: Task; failure: TaskFailure; reported: boolean }
  /** The control plane could not be reached (or answered 5xx) after the HTTP layer's retries: the loop checks in again after `retryInMs`. */
  | OutageEvent
  | { type: "stopped"; reason: "aborted" | "idle" | "max_tasks"; tasks: number };

export interface LoopOptions {
  client: DeviceClient;
  trainer: Trainer;
  /** Runs the job's evaluation tasks; a device without one reports them as failed (training_error). */
  evaluator?: Evaluator;
  /** Public attributes, reported at check-in. */
  attributes?: Attributes;
  /** Private attributes (for example the number of local examples): checked here against a job's private constraints, never sent. */
  privateAttributes?: Attributes;
  /** While a task runs, ping this often so that the scheduler keeps counting the device (default 30 s; 0: never). */
  pingIntervalMs?: number;
  signal?: AbortSignal;
  onEvent?: (event: LoopEvent) => void;
  /** Stop after this many accepted updates. */
  maxTasks?: number;
  /** Stop after waiting this long without a task. */
  maxIdleMs?: number;
  /**
   * Opens WebSockets: the device then waits for tasks on a push connection and is handed one the
   * moment its shard has it; without it (or while a connection cannot be held) it polls over HTTP.
   */
  push?: WebSocketConnector;
  /** The waits between check-ins while the control plane is out of reach (default: 1 s doubling to 60 s, jittered). */
  backoff?: Backoff;
}

/** Errors the server gives for an update that can no longer count; the device moves on. */
const SECURE_REFUSALS = new Set(["secure_phase_closed", "secure_group_failed"]);
const REFUSALS = new Set(["round_closed", "ticket_used", "ticket_invalid", "job_not_running", ...SECURE_REFUSALS]);

/**
 * The device's task loop, shared by browser tabs and Node devices: check in, wait as told or take
 * the task, download its model version, train locally, upload the delta, and repeat.
 */
export async function runTaskLoop(options: LoopOptions): Promise<{ tasks: number }> {
  const { client, signal } = options;
  const emit = options.onEvent ?? (() => {});
  const channel = new CheckInChannel(client, options.push, emit);
  let tasks = 0;
  let idleSince = Date.now();
  /** A reply pushed while the device waited, taken instead of the next check-in. */
  let pushed: CheckInReply | null = null;
  const stop = (reason: "aborted" | "idle" | "max_tasks") => (emit({ type: "stopped", reason, tasks }), { tasks });
  const backoff = options.backoff ?? jitteredBackoff();
  let outages = 0;
  /** Tasks whose secure group closed without this device (trained too late, or the group ended). */
  const missed = new Set<string>();
  try {
    while (!signal?.aborted) {
      if (options.maxTasks !== undefined && tasks >= options.maxTasks) return stop("max_tasks");
      try {
        const reply = await settle(pushed ?? (await channel.checkIn(options.attributes ?? {}, undefined, signal)), channel, options, emit);
        pushed = null;
        outages = 0;
        if (reply.status === "wait") {
          const idle = Date.now() - idleSince;
          if (options.maxIdleMs !== undefined && idle >= options.maxIdleMs) return stop("idle");
          const waitMs = options.maxIdleMs === undefined ? reply.retryAfterMs : Math.min(reply.retryAfterMs, options.maxIdleMs - idle);
          emit({ type: "wait", retryAfterMs: reply.retryAfterMs, reason: reply.reason, via: channel.pushing ? "push" : "poll" });
          pushed = await channel.wait(waitMs, signal);
          continue;
        }
        const { task } = reply;
        if (missed.has(task.ticket)) {
          // Its secure group went on without it: the job hands the task back while its lease lasts, so wait for the next round.
          const waitMs = Math.max(1_000, Math.min(10_000, task.deadline - Date.now()));
          emit({ type: "wait", retryAfterMs: waitMs, reason: "secure_group_missed", via: channel.pushing ? "push" : "poll" });
          pushed = await channel.wait(waitMs, signal);
          continue;
        }
        channel.taken();
        emit({ type: "task", task });
        const pings = keepAlive(client, options.pingIntervalMs ?? 30_000, signal);
        try {
          const noteMissed = (event: LoopEvent) => {
            if (event.type === "refused" && SECURE_REFUSALS.has(event.code)) {
              if (missed.size >= 64) missed.clear();
              missed.add(task.ticket);
            }
            emit(event);
          };
          if (await runTask(client, options, task, noteMissed, signal)) tasks += 1;
        } finally {
          clearInterval(pings);
        }
        idleSince = Date.now();
      } catch (error) {
        if (signal?.aborted || !isOutage(error)) throw error;
        // A task cut short is not lost: the job keeps the device's ticket while its lease lasts, and the next check-in hands it back.
        pushed = null;
        outages += 1;
        const retryInMs = backoff.delayMs(outages);
        emit({ type: "outage", message: error.message, failures: outages, retryInMs });
        // Rejects once the signal aborts: the loop then stops as aborted.
        await sleep(retryInMs, signal);
        // An outage is not idleness: the device had no chance of a task.
        idleSince = Date.now();
      }
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  } finally {
    channel.close();
  }
  return stop("aborted");
}

/** The first offer whose private constraints the device meets, or null. */
export function chooseOffer(offers: readonly JobOffer[], privateAttributes: Attributes): JobOffer | null {
  return offers.find((offer) => meetsConstraints(privateAttributes, offer.privateConstraints)) ?? null;
}

/** Answers an offer at once, by accepting the first job the device qualifies for. */
async function settle(reply: CheckInReply, channel: CheckInChannel, options: LoopOptions, emit: (e: LoopEvent) => void): Promise<Exclude<CheckInReply, { status: "offer" }>> {
  if (reply.status !== "offer") return reply;
  const chosen = chooseOffer(reply.offers, options.privateAttributes ?? {});
  emit({ type: "offer", offers: reply.offers.length, accepted: chosen?.jobId ?? null });
  if (!chosen) return { status: "wait", retryAfterMs: reply.retryAfterMs, reason: "private_constraints_unmet" };
  const answer = await channel.checkIn(options.attributes ?? {}, chosen.jobId, options.signal);
  // A second offer means the job filled up in between: wait rather than go round in circles.
  return answer.status === "offer" ? { status: "wait", retryAfterMs: answer.retryAfterMs, reason: "offer_taken" } : answer;
}

function keepAlive(client: DeviceClient, intervalMs: number, signal?: AbortSignal): ReturnType<typeof setInterval> | undefined {
  if (intervalMs <= 0) return undefined;
  // A missed ping only costs the device its place in the scheduler's supply count until the next check-in.
  return setInterval(() => void client.ping(signal).catch(() => undefined), intervalMs);
}

/** Runs one task: trains and uploads, or evaluates and reports; true when an update was accepted. */
async function runTask(client: DeviceClient, options: LoopOptions, task: Task, emit: (e: LoopEvent) => void, signal?: AbortSignal): Promise<boolean> {
  const { trainer } = options;
  try {
    const download = await client.downloadModel(task, signal);
    emit({ type: "downloaded", task, bytes: download.bytes });
    const started = Date.now();
    if (task.kind === "evaluate") {
      await runEvaluation(client, options.evaluator, task, download.model.values, emit, signal);
      return false;
    }
    let outcome: TrainOutcome;
    try {
      outcome = await trainer(task, download.model.values, signal);
    } catch (error) {
      if (signal?.aborted) throw error;
      await reportFailure(client, task, failureOf(error), emit, signal);
      return false;
    }
    emit({ type: "trained", task, outcome, millis: Date.now() - started });
    // A job that aggregates securely gets the delta masked with its group's, never the delta itself.
    const receipt = task.secure
      ? await secureUpload(client, task, outcome, signal)
      : await client.uploadUpdate(task, outcome.delta, { examples: outcome.examples, trainLoss: outcome.trainLoss, bytesDown: download.bytes }, signal);
    emit({ type: "uploaded", task, bytes: receipt.bytes, reported: receipt.reported, demand: receipt.demand });
    return true;
  } catch (error) {
    if (error instanceof PropiusError && REFUSALS.has(error.code)) {
      emit({ type: "refused", task, code: error.code, message: error.message });
      return false;
    }
    throw error;
  }
}

async function runEvaluation(client: DeviceClient, evaluator: Evaluator | undefined, task: Task, weights: Float32Array, emit: (e: LoopEvent) => void, signal?: AbortSignal): Promise<void> {
  const started = Date.now();
  let report: EvaluationReport;
  try {
    if (!evaluator) throw new Error("this device does not evaluate models");
    report = await evaluator(task, weights, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    return reportFailure(client, task, failureOf(error), emit, signal);
  }
  await client.reportEvaluation(task, report, signal);
  emit({ type: "evaluated", task, report, millis: Date.now() - started });
}

/** Tells the job the device cannot do `task`; a refusal (the round closed meanwhile) only means nobody waits for it. */
async function reportFailure(client: DeviceClient, task: Task, failure: TaskFailure, emit: (e: LoopEvent) => void, signal?: AbortSignal): Promise<void> {
  try {
    await client.reportFailure(task, failure, signal);
    emit({ type: "failed", task, failure, reported: true });
  } catch (error) {
    if (!(error instanceof PropiusError && REFUSALS.has(error.code))) throw error;
    emit({ type: "failed", task, failure, reported: false });
  }
}
