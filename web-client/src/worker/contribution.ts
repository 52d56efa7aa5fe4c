import { DeviceClient, rideOutOutages, runTaskLoop, type Evaluator, type LoopEvent, type OutageEvent, type Trainer, type WebSocketLike } from "@propius/edge-runtime";
import { evaluateHeldOut, initTraining, plannedSteps, splitHoldout, trainLocal, type LocalData } from "@propius/edge-runtime/training";
import { PropiusError, type Attributes, type Task } from "@propius/shared";
import type { Capabilities, ContributionEvent, StartOptions } from "../contract.js";
import type { ExampleSource } from "./job-examples.js";
import type { LatestModel } from "./latest-model.js";

export interface ContributionOptions extends StartOptions {
  /** The tab's data, made to fit each job's input format when a task of that job arrives. */
  examples: ExampleSource;
  backend: string;
  wasmPaths: string;
  capabilities: Capabilities;
  signal: AbortSignal;
  emit: (event: ContributionEvent) => void;
  /** Keeps the global model each task starts from, for the tab's own inference and evaluation. */
  latest: LatestModel;
  /** Held-out examples in the job's format to evaluate each new global model on, when the tab has them. */
  heldOut: (task: Task) => Promise<LocalData | undefined>;
}

/** What a tab reports at check-in: the platform, its backend and what the probe saw. */
export function tabAttributes(backend: string, capabilities: Capabilities): Attributes {
  return {
    platform: "browser",
    backend,
    ...(capabilities.cores ? { cores: capabilities.cores } : {}),
    ...(capabilities.memoryGb ? { memory_gb: capabilities.memoryGb } : {}),
    webgpu: capabilities.webgpuAdapter !== null,
  };
}

/** Progress is reported at most this often: a message per step would flood the page. */
const PROGRESS_EVERY_MS = 150;

/**
 * Contributes until the signal aborts: enrols once (the page keeps the credentials), then runs the
 * same task loop as the Node device, training on the tab's own data with the chosen backend.
 */
export async function contribute(options: ContributionOptions): Promise<void> {
  const { examples, emit, signal } = options;
  // Every new token (enrolment, renewal, enrolling again after an expiry) goes to the page, which keeps it.
  const client = new DeviceClient({ baseUrl: options.baseUrl, credentials: options.credentials, onCredentials: (credentials) => emit({ type: "registered", credentials }) });
  const attributes = tabAttributes(options.backend, options.capabilities);
  // A tab opened while the control plane is down waits for it, as the task loop does (onCredentials tells the page of the token).
  const outages = { signal, onOutage: (event: OutageEvent) => emit({ type: "outage", message: event.message, retryInMs: event.retryInMs }) };
  const enrol = () => rideOutOutages(() => client.register(attributes), outages);
  if (!client.credentials) await enrol();
  // A stored token the control plane no longer accepts (its state or secret was reset): enrol again.
  await rideOutOutages(() => client.ping(signal), outages).catch(async (error: unknown) => {
    if (!(error instanceof PropiusError && error.code === "unauthorized")) throw error;
    await enrol();
  });
  let lastTrained = { examples: 0, trainLoss: NaN };
  /** The task's examples in its job's format (turned when its first task arrives), split as its plan holds some out. */
  const examplesFor = async (task: Task) => {
    // Data that cannot fit throws a data_mismatch failure: the job is told (it frees the slot and binds the tab to it no more); the tab goes on.
    const prepared = await examples.forTask(task).catch((error: unknown) => {
      emit({ type: "examples_refused", jobId: task.jobId, message: error instanceof Error ? error.message : String(error) });
      throw error;
    });
    emit({ type: "examples", jobId: task.jobId, description: prepared.description });
    return splitHoldout(prepared.data, task.plan.validationSplit ?? 0);
  };
  const evaluator: Evaluator = async (task, weights) => {
    const { heldOut } = await examplesFor(task);
    await initTraining({ prefer: [options.backend], wasmPaths: options.wasmPaths });
    return evaluateHeldOut(task, weights, heldOut);
  };
  const trainer: Trainer = async (task, weights, abort) => {
    const { train: data } = await examplesFor(task);
    options.latest.remember({ jobId: task.jobId, round: task.round, model: task.model, weights });
    // The backend the probe chose; it falls back to the next one should it stop working.
    await initTraining({ prefer: [options.backend], wasmPaths: options.wasmPaths });
    const steps = plannedSteps(task.plan, data.count);
    let reported = 0;
    const result = await trainLocal({
      model: task.model, weights, data, plan: task.plan, signal: abort, proximalMu: task.train?.proximalMu,
      onProgress: ({ step, loss }) => {
        const now = performance.now();
        if (step === steps || now - reported >= PROGRESS_EVERY_MS) (reported = now), emit({ type: "progress", step, steps, loss });
      },
    });
    emit({ type: "trained", examples: result.examples, trainLoss: result.trainLoss, millis: result.millis, samplesPerSecond: result.samplesPerSecond });
    lastTrained = { examples: result.examples, trainLoss: result.trainLoss };
    return { delta: result.delta, examples: result.examples, trainLoss: result.trainLoss };
  };
  const onEvent = (event: LoopEvent) => {
    const summary = summarise(event, examples.count, lastTrained);
    if (summary) emit(summary);
    if (event.type === "uploaded") void evaluateLatest(options, event.task);
  };
  const push = options.poll ? undefined : (url: string, protocols: string[]) => new WebSocket(url, protocols) as unknown as WebSocketLike;
  await runTaskLoop({ client, trainer, evaluator, attributes, privateAttributes: { dataset_size: examples.count }, signal, onEvent, push });
}

/** Evaluates the model the last task started from on the held-out examples, beside the task loop. */
async function evaluateLatest(options: ContributionOptions, task: Task): Promise<void> {
  try {
    const test = await options.heldOut(task);
    if (test) options.emit({ type: "evaluated", evaluation: await options.latest.evaluate(test) });
  } catch (error) {
    options.emit({ type: "evaluation_failed", message: error instanceof Error ? error.message : String(error) });
  }
}

function summarise(event: LoopEvent, count: number, trained: { examples: number; trainLoss: number }): ContributionEvent | null {
  switch (event.type) {
    case "wait":
      return { type: "waiting", reason: event.reason, retryAfterMs: event.retryAfterMs, via: event.via };
    case "task":
      return { type: "task", jobId: event.task.jobId, round: event.task.round, steps: plannedSteps(event.task.plan, count) };
    case "downloaded":
      return { type: "downloaded", jobId: event.task.jobId, round: event.task.round, bytes: event.bytes };
    case "uploaded":
      return { type: "uploaded", jobId: event.task.jobId, round: event.task.round, bytes: event.bytes, reported: event.reported, demand: event.demand, ...trained };
    case "refused":
      return { type: "refused", jobId: event.task.jobId, round: event.task.round, code: event.code, message: event.message };
    case "failed":
      return { type: "failed", jobId: event.task.jobId, round: event.task.round, code: event.failure.code, message: event.failure.message, reported: event.reported };
    case "outage":
      return { type: "outage", message: event.message, retryInMs: event.retryInMs };
    case "stopped":
      return { type: "stopped", reason: event.reason, tasks: event.tasks };
    default:
      return null; // offers and training results are reported elsewhere
  }
}
