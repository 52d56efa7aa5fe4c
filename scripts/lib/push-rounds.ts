import type { CheckInChannel, DeviceClient } from "@propius/edge-runtime";
import type { CheckInReply, Task } from "@propius/shared";
import { spread, type Phase } from "./contribution-rounds.js";

/** A device that checks in over its push connection (the edge runtime's check-in channel) and downloads and uploads over HTTP. */
export interface PushDevice {
  client: DeviceClient;
  channel: CheckInChannel;
}

/** How a push device got its tasks: answered on its check-in frame, or pushed unasked while it waited. */
export interface Bindings {
  answered: number;
  pushed: number;
  /** The waits the devices were told on their check-in frames, by reason. */
  waits: Record<string, number>;
}

/** How long a waiting device waits for its push before the round counts as lost. */
const PUSH_TIMEOUT_MS = 15_000;

/**
 * Checks in over the push connection and waits on it until given a task of `round`, as the task
 * loop does: a device told to wait stays connected and silent, and its shard pushes the task when
 * the round opens.
 */
export async function bindOverPush(device: PushDevice, index: number, round: number, bindings: Bindings): Promise<Task> {
  if (!device.channel.pushing) throw new Error(`device ${index} has no push connection`);
  let reply: CheckInReply | null = await device.channel.checkIn({}, undefined);
  let pushed = false;
  for (let replies = 0; replies < 100; replies++) {
    if (reply === null) throw new Error(`device ${index} was pushed no task of round ${round} within ${PUSH_TIMEOUT_MS} ms`);
    if (reply.status === "task") {
      if (reply.task.round !== round) throw new Error(`device ${index} was given round ${reply.task.round} while round ${round} was expected`);
      device.channel.taken();
      bindings[pushed ? "pushed" : "answered"] += 1;
      return reply.task;
    }
    if (reply.status === "offer") throw new Error(`device ${index} was offered jobs; the benchmark's job has no private constraints`);
    if (!pushed) bindings.waits[reply.reason] = (bindings.waits[reply.reason] ?? 0) + 1;
    reply = await device.channel.wait(PUSH_TIMEOUT_MS);
    pushed = true;
  }
  throw new Error(`device ${index} got no task of round ${round} in 100 replies`);
}

/**
 * One round's contributions over push, step by step for all devices at once, `mark` called as each
 * step ends. `bound` are the devices' check-ins for this round, already under way: each device
 * checks in again right after its upload (as the task loop does) and is told to wait, so that its
 * next task is pushed when the round closes and the next one opens. Returns those next check-ins.
 */
export async function runPushRound(options: {
  devices: PushDevice[]; deltas: Float32Array[]; round: number; closeMs: number; spreadMs: number; bound: Promise<Task>[]; bindings: Bindings; mark: (phase: Phase) => void;
}): Promise<Promise<Task>[]> {
  const { devices, round, mark } = options;
  const tasks = await Promise.all(options.bound);
  mark("checkIn");
  await Promise.all(devices.map((device, i) => device.client.downloadModel(tasks[i])));
  mark("download");
  const next: Promise<Task>[] = [];
  await Promise.all(devices.map(async (device, i) => {
    await spread(options.spreadMs, i, devices.length);
    await device.client.uploadUpdate(tasks[i], options.deltas[i], { examples: 10 });
    next[i] = bindOverPush(device, i, round + 1, options.bindings);
    // Settled later, by the next round; a failure here must not go unhandled meanwhile.
    next[i].catch(() => undefined);
  }));
  mark("upload");
  await new Promise((resolve) => setTimeout(resolve, options.closeMs));
  mark("close");
  return next;
}
