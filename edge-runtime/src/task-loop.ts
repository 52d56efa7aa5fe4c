import { PropiusError, type Attributes, type Task } from "@propius/shared";
import type { DeviceClient } from "./protocol/device-client.js";
import { sleep } from "./protocol/http.js";

/** What local training gives back for one task. */
export interface TrainOutcome {
  delta: Float32Array;
  examples: number;
  trainLoss: number;
}

/** Trains a task's model, starting from `weights`, on the device's own data. */
export type Trainer = (task: Task, weights: Float32Array, signal?: AbortSignal) => Promise<TrainOutcome>;

export type LoopEvent =
  | { type: "wait"; retryAfterMs: number; reason: string }
  | { type: "task"; task: Task }
  | { type: "downloaded"; task: Task; bytes: number }
  | { type: "trained"; task: Task; outcome: TrainOutcome; millis: number }
  | { type: "uploaded"; task: Task; bytes: number; reported: number; demand: number }
  | { type: "refused"; task: Task; code: string; message: string }
  | { type: "stopped"; reason: "aborted" | "idle" | "max_tasks"; tasks: number };

export interface LoopOptions {
  client: DeviceClient;
  trainer: Trainer;
  attributes?: Attributes;
  signal?: AbortSignal;
  onEvent?: (event: LoopEvent) => void;
  /** Stop after this many accepted updates. */
  maxTasks?: number;
  /** Stop after waiting this long without a task. */
  maxIdleMs?: number;
}

/** Errors the server gives for an update that can no longer count; the device moves on. */
const REFUSALS = new Set(["round_closed", "ticket_used", "ticket_invalid", "job_not_running"]);

/**
 * The device's task loop, shared by browser tabs and Node devices: check in, wait as told or take
 * the task, download its model version, train locally, upload the delta, and repeat.
 */
export async function runTaskLoop(options: LoopOptions): Promise<{ tasks: number }> {
  const { client, trainer, signal } = options;
  const emit = options.onEvent ?? (() => {});
  let tasks = 0;
  let idleSince = Date.now();
  const stop = (reason: "aborted" | "idle" | "max_tasks") => (emit({ type: "stopped", reason, tasks }), { tasks });
  try {
    while (!signal?.aborted) {
      if (options.maxTasks !== undefined && tasks >= options.maxTasks) return stop("max_tasks");
      const reply = await client.checkIn(options.attributes ?? {}, signal);
      if (reply.status === "wait") {
        if (options.maxIdleMs !== undefined && Date.now() - idleSince >= options.maxIdleMs) return stop("idle");
        emit({ type: "wait", retryAfterMs: reply.retryAfterMs, reason: reply.reason });
        await sleep(reply.retryAfterMs, signal);
        continue;
      }
      const { task } = reply;
      emit({ type: "task", task });
      if (await runTask(client, trainer, task, emit, signal)) tasks += 1;
      idleSince = Date.now();
    }
  } catch (error) {
    if (!signal?.aborted) throw error;
  }
  return stop("aborted");
}

async function runTask(client: DeviceClient, trainer: Trainer, task: Task, emit: (e: LoopEvent) => void, signal?: AbortSignal): Promise<boolean> {
  try {
    const download = await client.downloadModel(task, signal);
    emit({ type: "downloaded", task, bytes: download.bytes });
    const started = Date.now();
    const outcome = await trainer(task, download.model.values, signal);
    emit({ type: "trained", task, outcome, millis: Date.now() - started });
    const receipt = await client.uploadUpdate(task, outcome.delta, { examples: outcome.examples, trainLoss: outcome.trainLoss, bytesDown: download.bytes }, signal);
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
