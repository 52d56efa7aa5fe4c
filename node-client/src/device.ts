import { cpus, totalmem } from "node:os";
import { DeviceClient, rideOutOutages, runTaskLoop, waitUntilReachable, type Evaluator, type LoopEvent, type Trainer } from "@propius/edge-runtime";
import { evaluateHeldOut, initTraining, splitHoldout, trainLocal, type ExampleSource } from "@propius/edge-runtime/training";
import type { Attributes, Task } from "@propius/shared";
import { loadCredentials, saveCredentials } from "./credentials.js";
import { nodeWebSocket } from "./web-socket.js";

export interface DeviceOptions {
  url: string;
  stateDir: string;
  /** The device's examples, turned into each job's input format when its first task arrives. */
  examples: ExampleSource;
  /** Extra operator-defined attributes, reported at check-in. */
  attributes?: Attributes;
  /** Extra private attributes, checked on the device against jobs' private constraints and never sent. */
  privateAttributes?: Attributes;
  backend?: string;
  /** A job owner's enrolment token (`et_...`), used when the device enrols. */
  enrolmentToken?: string;
  maxTasks?: number;
  maxIdleMs?: number;
  /** How long to wait for the control plane to answer before enrolling (default 0: not at all). */
  waitMs?: number;
  /** Check in over HTTP only, without a push connection. */
  poll?: boolean;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Receives every task-loop event, with the device's id. */
  onEvent?: (event: LoopEvent, device: string) => void;
}

/** What this Node device can tell the scheduler about itself. */
export function probeAttributes(backend: string): Attributes {
  return { platform: "node", backend, cores: cpus().length, memory_gb: Math.round(totalmem() / 2 ** 30) };
}

/** What only the device knows and keeps: the size of its local dataset. */
export function privateAttributesOf(examples: Pick<ExampleSource, "count">): Attributes {
  return { dataset_size: examples.count };
}

/** Runs one Node device: enrol (or reuse its enrolment), then the shared task loop with tfjs training. */
export async function runDevice(options: DeviceOptions): Promise<{ tasks: number }> {
  const backend = await initTraining(options.backend ? { prefer: [options.backend] } : {});
  if (options.waitMs) await waitUntilReachable(options.url, { timeoutMs: options.waitMs, intervalMs: 500, signal: options.signal });
  // Every new token (enrolment, renewal, enrolling again after an expiry) is kept in the state folder.
  const client = new DeviceClient({
    baseUrl: options.url,
    credentials: await loadCredentials(options.stateDir, options.url),
    onCredentials: (credentials) => saveCredentials(options.stateDir, options.url, credentials),
  });
  const attributes = { ...probeAttributes(backend), ...options.attributes };
  const privateAttributes = { ...privateAttributesOf(options.examples), ...options.privateAttributes };
  if (!client.credentials) {
    // Started while the control plane is down (a deploy, a lost network): it enrols once it is back (onCredentials keeps the token).
    await rideOutOutages(() => client.register(attributes, { enrolmentToken: options.enrolmentToken }), { signal: options.signal, onOutage: (event) => options.log(`enrolling: ${describe(event)}`) });
  }
  options.log(`device ${client.credentials!.clientId} on ${backend}, ${options.examples.count} local examples, control plane ${options.url}`);
  const told = new Set<string>();
  /** The task's examples in its job's format, split as its plan holds some out for evaluation. */
  const examplesFor = async (task: Task) => {
    // Examples that cannot fit throw a data_mismatch failure: the job is told, frees the slot and binds this device no more.
    const converted = await options.examples.forTask(task);
    if (!told.has(task.jobId)) {
      told.add(task.jobId);
      options.log(`examples for job ${task.jobId}: ${converted.description}`);
    }
    return splitHoldout(converted.data, task.plan.validationSplit ?? 0);
  };
  const trainer: Trainer = async (task, weights, signal) => {
    const { train } = await examplesFor(task);
    const result = await trainLocal({ model: task.model, weights, data: train, plan: task.plan, signal, proximalMu: task.train?.proximalMu });
    return { delta: result.delta, examples: result.examples, trainLoss: result.trainLoss };
  };
  const evaluator: Evaluator = async (task, weights) => evaluateHeldOut(task, weights, (await examplesFor(task)).heldOut);
  return runTaskLoop({
    client, trainer, evaluator, attributes, privateAttributes, signal: options.signal, maxTasks: options.maxTasks, maxIdleMs: options.maxIdleMs,
    push: options.poll ? undefined : nodeWebSocket(),
    onEvent: (event) => (options.log(describe(event)), options.onEvent?.(event, client.credentials!.clientId)),
  });
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MB`;

function describe(event: LoopEvent): string {
  switch (event.type) {
    case "wait":
      return event.via === "push" ? `waiting for a push (${event.reason})` : `waiting ${(event.retryAfterMs / 1000).toFixed(1)}s (${event.reason})`;
    case "connection":
      return event.state === "open" ? "push connection open" : `no push connection (${event.detail ?? "closed"}); checking in over HTTP`;
    case "offer":
      return event.accepted ? `offered ${event.offers} job(s), accepted ${event.accepted}` : `offered ${event.offers} job(s), meets the private constraints of none`;
    case "task":
      return `task: job ${event.task.jobId} round ${event.task.round}`;
    case "downloaded":
      return event.bytes ? `downloaded model ${event.task.modelHash.slice(0, 12)} (${mb(event.bytes)})` : `model ${event.task.modelHash.slice(0, 12)} cached`;
    case "trained":
      return `trained on ${event.outcome.examples} examples in ${(event.millis / 1000).toFixed(1)}s, loss ${event.outcome.trainLoss.toFixed(4)}`;
    case "uploaded":
      return `uploaded delta (${mb(event.bytes)}): ${event.reported}/${event.demand} reported`;
    case "refused":
      return `update refused: ${event.code} (${event.message})`;
    case "evaluated":
      return `evaluated model ${event.task.modelHash.slice(0, 12)} on ${event.report.examples} held-out examples in ${(event.millis / 1000).toFixed(1)}s: accuracy ${event.report.accuracy.toFixed(4)}, loss ${event.report.loss.toFixed(4)}`;
    case "failed":
      return `could not do the task (${event.failure.code}: ${event.failure.message})${event.reported ? "; told the job, which freed the slot" : ""}`;
    case "outage":
      return `${event.message}; checking in again in ${(event.retryInMs / 1000).toFixed(1)}s (${event.failures} in a row)`;
    case "stopped":
      return `stopped (${event.reason}) after ${event.tasks} accepted updates`;
  }
}
