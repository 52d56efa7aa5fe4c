import { EventQueue } from "../../control/src/simulator/event-queue.js";
import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, encodeWeights, meetsConstraints, parameterCount, type Attributes, type CheckInReply, type JobOffer, type Task, type TensorSpec } from "@propius/shared";

/** A simulated device: its credentials, what it reports and what it keeps to itself. */
export interface LoadDevice {
  token: string;
  attributes: Attributes;
  privateAttributes: Attributes;
  task: Task | null;
  readyAt: number;
  /** The device's synthetic delta, encoded once (the same for every report of a 256-parameter job). */
  delta?: Uint8Array<ArrayBuffer>;
  /** Check-ins in a row that bound nothing, for the back-off of client-side choice. */
  refusalsInRow?: number;
}

/**
 * The paper's back-off for client-side random choice: a pick the server refuses sends the device
 * away for `initialS`, doubled with each refusal in a row up to `maxS`; a binding resets it.
 */
export interface Backoff {
  initialS: number;
  maxS: number;
}

/** How long a device waits after its `refusals`-th refusal in a row (counted from 0), in ms. */
export function backoffMs(backoff: Backoff, refusals: number): number {
  return Math.min(backoff.maxS, backoff.initialS * 2 ** refusals) * 1000;
}

export interface LoadFigures {
  seconds: number;
  /** HTTP requests (check-ins and reports). */
  requests: number;
  /** Check-ins, over HTTP or as frames on a push connection. */
  checkIns: number;
  bindings: number;
  offers: number;
  /** Replies a push connection delivered unasked (tasks and offers for waiting devices). */
  pushes: number;
  reports: number;
  /** Reports refused because the round had closed or moved on first (409), by error code. */
  stale: Record<string, number>;
  /** Non-2xx answers other than a refused (stale) report, error frames, and network errors. */
  errors: number;
  /** Check-in latency in ms (each check-in, including those that accept an offer). */
  checkInMs: number[];
  errorSamples: string[];
  /**
   * Over HTTP: lane time spent with no device due, and lane time in all (ms). Near 0 idle is
   * saturation: a device was always ready to check in when a request finished.
   */
  laneIdleMs: number;
  laneMs: number;
}

export interface LoadOptions {
  url: string;
  devices: LoadDevice[];
  tensors: TensorSpec[];
  seconds: number;
  /** Requests (or check-in frames) in flight at most. */
  concurrency: number;
  /**
   * Client-side choice: a check-in that binds nothing sends the device into this back-off instead
   * of coming back when the server said (HTTP only).
   */
  backoff?: Backoff;
}

export function emptyFigures(): LoadFigures {
  return { seconds: 0, requests: 0, checkIns: 0, bindings: 0, offers: 0, pushes: 0, reports: 0, stale: {}, errors: 0, checkInMs: [], errorSamples: [], laneIdleMs: 0, laneMs: 0 };
}

/** Counts a failure and keeps the first few for the report. */
export function failure(figures: LoadFigures, what: string): void {
  figures.errors += 1;
  if (figures.errorSamples.length < 5) figures.errorSamples.push(what);
}

/** The offer a device takes: the first whose private constraints its private attributes meet. */
export function chosenOffer(device: LoadDevice, offers: readonly JobOffer[]): JobOffer | undefined {
  return offers.find((offer) => meetsConstraints(device.privateAttributes, offer.privateConstraints));
}

/** Reports a synthetic delta for `task` (the job's tensors, all 0.001): this measures the control plane, not training. */
export async function report(url: string, device: LoadDevice, task: Task, tensors: TensorSpec[], figures: LoadFigures): Promise<void> {
  // Encoded once per device, so that the load generator spends its share of the machine on requests.
  const body = (device.delta ??= encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: Number(device.privateAttributes.dataset_size ?? 1) } }, new Float32Array(parameterCount(tensors)).fill(0.001)));
  figures.requests += 1;
  const response = await fetch(`${url}${task.uploadUrl}`, {
    method: "POST",
    headers: { authorization: `Bearer ${device.token}`, "content-type": WEIGHTS_MEDIA_TYPE, [TICKET_HEADER]: task.ticket },
    body,
  });
  const text = await response.text();
  if (response.status === 202) figures.reports += 1;
  else if (response.status === 409) {
    const code = (JSON.parse(text) as { error: { code: string } }).error.code;
    figures.stale[code] = (figures.stale[code] ?? 0) + 1;
  } else failure(figures, `update ${response.status} ${text.slice(0, 120)}`);
}

const json = (token: string, body: unknown): RequestInit => ({
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify(body),
});

/**
 * Drives devices over HTTP for `seconds` with `concurrency` requests in flight: each device checks
 * in, takes a task (accepting an offer when it meets the private constraints), reports a delta at
 * once (a task shorter than the 30 s ping interval, so no ping), and checks in again; a device told
 * to wait comes back when told.
 */
export async function driveDevices(options: LoadOptions): Promise<LoadFigures> {
  const { url, devices, tensors } = options;
  const figures = emptyFigures();
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const queue = new EventQueue<LoadDevice>();
  for (const device of devices) queue.push(device.readyAt, device);

  async function checkIn(device: LoadDevice, accept?: string): Promise<CheckInReply | null> {
    const t0 = performance.now();
    figures.requests += 1;
    figures.checkIns += 1;
    const response = await fetch(`${url}/v1/checkin`, json(device.token, accept ? { attributes: device.attributes, accept } : { attributes: device.attributes }));
    const body = await response.text();
    figures.checkInMs.push(performance.now() - t0);
    if (!response.ok) return failure(figures, `checkin ${response.status} ${body.slice(0, 120)}`), null;
    return JSON.parse(body) as CheckInReply;
  }

  async function step(device: LoadDevice): Promise<void> {
    if (device.task) {
      const task = device.task;
      device.task = null;
      await report(url, device, task, tensors, figures);
      device.readyAt = performance.now();
      return;
    }
    let reply = await checkIn(device);
    if (reply?.status === "offer") {
      figures.offers += 1;
      const chosen = chosenOffer(device, reply.offers);
      reply = chosen ? await checkIn(device, chosen.jobId) : { status: "wait", retryAfterMs: reply.retryAfterMs, reason: "private_constraints_unmet" };
    }
    if (reply?.status === "task") {
      figures.bindings += 1;
      device.task = reply.task;
      device.refusalsInRow = 0;
      // Each device trains on its own hardware: its report does not queue behind other devices' check-ins
      // (not even behind the first check-ins of devices that are all ready at time 0).
      device.readyAt = -1;
    } else if (options.backoff && reply) {
      const refusals = device.refusalsInRow ?? 0;
      device.refusalsInRow = refusals + 1;
      device.readyAt = performance.now() + backoffMs(options.backoff, refusals);
    } else {
      device.readyAt = performance.now() + (reply?.status === "wait" || reply?.status === "offer" ? reply.retryAfterMs : 1_000);
    }
  }

  async function worker(): Promise<void> {
    while (performance.now() < end) {
      const wait = queue.peekTime() - performance.now();
      if (wait > 0) {
        const idleFrom = performance.now();
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, wait, end - idleFrom)));
        figures.laneIdleMs += performance.now() - idleFrom;
        continue;
      }
      const device = queue.pop()!;
      try {
        await step(device);
      } catch (error) {
        failure(figures, String(error));
        device.readyAt = performance.now() + 1_000;
      }
      queue.push(device.readyAt, device);
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  figures.seconds = (performance.now() - started) / 1000;
  figures.laneMs = options.concurrency * figures.seconds * 1000;
  return figures;
}

export interface Ceiling {
  rate: number;
  p50: number;
  p99: number;
}

/** Runs `once` with `concurrency` in flight for `seconds`: its rate and latency. */
export async function closedLoop(seconds: number, concurrency: number, once: (lane: number) => Promise<void>): Promise<Ceiling> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await once(lane);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { rate: latencies.length / ((performance.now() - started) / 1000), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Requests per second of a trivial route with the same concurrency: the machine's ceiling for this client. */
export function trivialRate(url: string, seconds: number, concurrency: number): Promise<Ceiling> {
  return closedLoop(seconds, concurrency, async () => void (await (await fetch(`${url}/v1/health`)).arrayBuffer()));
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Two groups of devices driven side by side, as one. */
export function mergeFigures(a: LoadFigures, b: LoadFigures): LoadFigures {
  const stale = { ...a.stale };
  for (const [code, n] of Object.entries(b.stale)) stale[code] = (stale[code] ?? 0) + n;
  return {
    seconds: Math.max(a.seconds, b.seconds), requests: a.requests + b.requests, checkIns: a.checkIns + b.checkIns, bindings: a.bindings + b.bindings,
    offers: a.offers + b.offers, pushes: a.pushes + b.pushes, reports: a.reports + b.reports, stale, errors: a.errors + b.errors,
    checkInMs: a.checkInMs.concat(b.checkInMs), errorSamples: a.errorSamples.concat(b.errorSamples).slice(0, 5),
    laneIdleMs: a.laneIdleMs + b.laneIdleMs, laneMs: a.laneMs + b.laneMs,
  };
}
