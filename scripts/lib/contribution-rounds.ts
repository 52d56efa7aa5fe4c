import type { DeviceClient } from "@propius/edge-runtime";
import type { Task } from "@propius/shared";

/** HTTP requests sent, by what they were for (retries after a network error included). */
export interface Requests {
  checkIns: number;
  downloads: number;
  uploads: number;
  other: number;
}

/**
 * A fetch that counts requests by kind and keeps at most `limit` in flight (the others wait their
 * turn, unsent): the devices' load on the control plane, whatever their number.
 */
export function devicesFetch(limit: number): { fetch: typeof fetch; requests: Requests } {
  const requests: Requests = { checkIns: 0, downloads: 0, uploads: 0, other: 0 };
  const waiting: (() => void)[] = [];
  let inFlight = 0;
  const counted = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    while (inFlight >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    inFlight += 1;
    const path = new URL(input instanceof Request ? input.url : input).pathname;
    if (path === "/v1/checkin") requests.checkIns += 1;
    else if (path.startsWith("/v1/models/")) requests.downloads += 1;
    else if (path.endsWith("/updates")) requests.uploads += 1;
    else requests.other += 1;
    try {
      const response = await fetch(input, init);
      // Read here, so that the slot is held until the answer is in (the caller reads it from memory).
      return new Response(await response.arrayBuffer(), { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      inFlight -= 1;
      waiting.shift()?.();
    }
  };
  return { fetch: counted as typeof fetch, requests };
}

/** The steps of a round, in order: each ends when every device has done it. */
export const PHASES = ["checkIn", "download", "upload", "close"] as const;
export type Phase = (typeof PHASES)[number];

/**
 * One round's contributions, step by step for all devices at once, `mark` called as each step ends:
 * check in until given a task of `round` (coming back when told to wait), download its model,
 * upload the device's delta (no training; device i first waits `spreadMs` x i / devices, as
 * training times that differ would have it), and `closeMs` for the job to close the round.
 */
export async function runRound(options: { clients: DeviceClient[]; deltas: Float32Array[]; round: number; closeMs: number; spreadMs: number; mark: (phase: Phase) => void }): Promise<void> {
  const { clients, round, mark } = options;
  const tasks = await Promise.all(clients.map((device, i) => bind(device, i, round)));
  mark("checkIn");
  await Promise.all(clients.map((device, i) => device.downloadModel(tasks[i])));
  mark("download");
  await Promise.all(clients.map(async (device, i) => {
    await spread(options.spreadMs, i, clients.length);
    await device.uploadUpdate(tasks[i], options.deltas[i], { examples: 10 });
  }));
  mark("upload");
  await new Promise((resolve) => setTimeout(resolve, options.closeMs));
  mark("close");
}

/** Device `index`'s wait before its upload: a stand-in for training times spread over `spreadMs`. */
export function spread(spreadMs: number, index: number, devices: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, (spreadMs * index) / devices));
}

async function bind(device: DeviceClient, index: number, round: number): Promise<Task> {
  for (let tries = 0; tries < 100; tries++) {
    const reply = await device.checkIn({});
    if (reply.status === "task" && reply.task.round === round) return reply.task;
    if (reply.status === "task") throw new Error(`device ${index} was given round ${reply.task.round} while round ${round} was expected`);
    await new Promise((resolve) => setTimeout(resolve, reply.retryAfterMs));
  }
  throw new Error(`device ${index} got no task of round ${round} in 100 check-ins`);
}
