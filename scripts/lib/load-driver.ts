import { EventQueue } from "../../control/src/simulator/event-queue.js";
import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, encodeWeights, meetsConstraints, type Attributes, type CheckInReply, type Task, type TensorSpec } from "@propius/shared";

/** A simulated device: its credentials, what it reports and what it keeps to itself. */
export interface LoadDevice {
  token: string;
  attributes: Attributes;
  privateAttributes: Attributes;
  task: Task | null;
  readyAt: number;
}

export interface LoadFigures {
  seconds: number;
  requests: number;
  checkIns: number;
  bindings: number;
  offers: number;
  pings: number;
  reports: number;
  /** Reports refused because the round had closed or moved on first (409), by error code. */
  stale: Record<string, number>;
  /** Non-2xx answers other than a refused (stale) report, and network errors. */
  errors: number;
  /** Check-in latency in ms (each check-in request, including those that accept an offer). */
  checkInMs: number[];
  errorSamples: string[];
}

const json = (token: string, body: unknown): RequestInit => ({
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
  body: JSON.stringify(body),
});

/**
 * Drives devices against a control plane for `seconds` with `concurrency` requests in flight: each
 * device checks in, takes a task (accepting an offer when it meets the private constraints), pings
 * once as if training, reports a delta, and checks in again; a device told to wait comes back when
 * told. The delta is synthetic (the job's tensors, all 0.001): this measures the control plane.
 */
export async function driveDevices(options: { url: string; devices: LoadDevice[]; tensors: TensorSpec[]; seconds: number; concurrency: number }): Promise<LoadFigures> {
  const { url, devices, tensors } = options;
  const size = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  const figures: LoadFigures = { seconds: 0, requests: 0, checkIns: 0, bindings: 0, offers: 0, pings: 0, reports: 0, stale: {}, errors: 0, checkInMs: [], errorSamples: [] };
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const queue = new EventQueue<LoadDevice>();
  for (const device of devices) queue.push(device.readyAt, device);

  const fail = (what: string) => {
    figures.errors += 1;
    if (figures.errorSamples.length < 5) figures.errorSamples.push(what);
  };

  async function checkIn(device: LoadDevice, accept?: string): Promise<CheckInReply | null> {
    const t0 = performance.now();
    figures.requests += 1;
    figures.checkIns += 1;
    const response = await fetch(`${url}/v1/checkin`, json(device.token, accept ? { attributes: device.attributes, accept } : { attributes: device.attributes }));
    const body = await response.text();
    figures.checkInMs.push(performance.now() - t0);
    if (!response.ok) return fail(`checkin ${response.status} ${body.slice(0, 120)}`), null;
    return JSON.parse(body) as CheckInReply;
  }

  async function step(device: LoadDevice): Promise<void> {
    if (device.task) {
      const task = device.task;
      device.task = null;
      figures.requests += 2;
      figures.pings += 1;
      const ping = await fetch(`${url}/v1/ping`, json(device.token, {}));
      if (!ping.ok) fail(`ping ${ping.status}`);
      await ping.arrayBuffer();
      const body = encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples: Number(device.privateAttributes.dataset_size ?? 1) } }, new Float32Array(size).fill(0.001));
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
      } else fail(`update ${response.status} ${text.slice(0, 120)}`);
      device.readyAt = performance.now();
      return;
    }
    let reply = await checkIn(device);
    if (reply?.status === "offer") {
      figures.offers += 1;
      const chosen = reply.offers.find((offer) => meetsConstraints(device.privateAttributes, offer.privateConstraints));
      reply = chosen ? await checkIn(device, chosen.jobId) : { status: "wait", retryAfterMs: reply.retryAfterMs, reason: "private_constraints_unmet" };
    }
    if (reply?.status === "task") {
      figures.bindings += 1;
      device.task = reply.task;
      // Each device trains on its own hardware: its report does not queue behind other devices' check-ins.
      device.readyAt = 0;
    } else {
      device.readyAt = performance.now() + (reply?.status === "wait" || reply?.status === "offer" ? reply.retryAfterMs : 1_000);
    }
  }

  async function worker(): Promise<void> {
    while (performance.now() < end) {
      const wait = queue.peekTime() - performance.now();
      if (wait > 0) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, wait)));
        continue;
      }
      const device = queue.pop()!;
      try {
        await step(device);
      } catch (error) {
        fail(String(error));
        device.readyAt = performance.now() + 1_000;
      }
      queue.push(device.readyAt, device);
    }
  }

  await Promise.all(Array.from({ length: options.concurrency }, worker));
  figures.seconds = (performance.now() - started) / 1000;
  return figures;
}

/** Requests per second of a trivial route with the same concurrency: the machine's ceiling for this client. */
export async function trivialRate(url: string, seconds: number, concurrency: number): Promise<{ rate: number; p50: number; p99: number }> {
  const end = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await (await fetch(`${url}/v1/health`)).arrayBuffer();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { rate: latencies.length / ((performance.now() - started) / 1000), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
