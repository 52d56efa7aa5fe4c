import { DeviceClient, jitteredBackoff, runTaskLoop, type Backoff, type Trainer } from "@propius/edge-runtime";
import { eventLogLine, type EventLogLine } from "@propius/node-client";

/** A device in this process: the shared task loop over HTTP, with a trainer the scenario gives. */
export interface LoopDevice {
  id: string;
  client: DeviceClient;
  /** Ends when the loop stops; rejects when it exits with an error (a device that gave up). */
  loop: Promise<{ tasks: number }>;
  /** Stops the loop without a word to the control plane: the device vanishes. */
  vanish(): void;
  /** Whether the loop ended with an error, and which. */
  exit: { error: string } | null;
}

export interface LoopDeviceOptions {
  url: string;
  /** The device's name in `lines`. */
  id: string;
  /** Each task-loop event is appended here as an event-log line (as the CLI's --event-log writes). */
  lines: EventLogLine[];
  /** Gets the device and its abort signal: a trainer that vanishes calls `device.vanish()`. */
  trainer: (device: LoopDevice) => Trainer;
  maxTasks?: number;
  backoff?: Backoff;
}

/** A synthetic delta: every weight moves by `step` (this measures the control plane, not learning). */
export function constantTrainer(step: number, examples: number): Trainer {
  return async (_task, weights) => ({ delta: new Float32Array(weights.length).fill(step), examples, trainLoss: 1 });
}

/** Enrols a device and starts its task loop (polling, no pings: a task is shorter than a ping interval). */
export async function startLoopDevice(options: LoopDeviceOptions): Promise<LoopDevice> {
  const client = new DeviceClient({ baseUrl: options.url, attempts: 1 });
  await client.register({});
  const controller = new AbortController();
  const device: LoopDevice = { id: options.id, client, loop: Promise.resolve({ tasks: 0 }), vanish: () => controller.abort(), exit: null };
  device.loop = runTaskLoop({
    client,
    trainer: options.trainer(device),
    signal: controller.signal,
    maxTasks: options.maxTasks,
    pingIntervalMs: 0,
    backoff: options.backoff ?? jitteredBackoff({ baseMs: 250, capMs: 2_000 }),
    onEvent: (event) => options.lines.push(eventLogLine(options.id, event, Date.now())),
  });
  device.loop.catch((error: unknown) => (device.exit = { error: String(error) }));
  return device;
}

/** A promise that rejects when `signal` aborts, for a trainer that never answers. */
export function never(signal?: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal?.addEventListener("abort", () => reject(signal.reason), { once: true }));
}
