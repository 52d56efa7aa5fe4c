import { SELF, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import {
  encodeWeights,
  isErrorBody,
  TICKET_HEADER,
  WEIGHTS_MEDIA_TYPE,
  type CheckInReply,
  type ErrorCode,
  type JobSpecInput,
  type JobStatus,
  type RoundRecord,
  type Task,
  type TensorSpec,
} from "@propius/shared";
import type { Env } from "../src/env.js";
import { directoryOf, jobOf } from "../src/directory/directory-client.js";
import { unwrap } from "../src/job/reply.js";

/** Helpers for the control plane's workerd tests: one tiny job, a dense layer of one 2x2 float32 kernel. */
export const testEnv = env as unknown as Env;
export const ADMIN_KEY = "test-admin-key";
export const TENSORS: TensorSpec[] = [{ name: "dense/kernel", shape: [2, 2], dtype: "float32" }];
export const TOPOLOGY = {
  class_name: "Sequential",
  config: { name: "tiny", layers: [{ class_name: "Dense", config: { name: "dense", units: 2, use_bias: false, activation: "softmax", batch_input_shape: [null, 2] } }] },
};
export const SEED = Float32Array.of(1, 2, 3, 4);

export interface Call {
  method?: string;
  token?: string;
  json?: unknown;
  body?: BodyInit;
  type?: string;
  headers?: Record<string, string>;
}

/** Sends a request to the Worker; `json` sets the body and content type, `type` overrides the latter. */
export function api(path: string, call: Call = {}): Promise<Response> {
  const headers = new Headers(call.headers);
  if (call.token) headers.set("authorization", `Bearer ${call.token}`);
  let body = call.body;
  if (call.json !== undefined) {
    body = typeof call.json === "string" ? call.json : JSON.stringify(call.json);
    headers.set("content-type", "application/json");
  }
  if (call.type) headers.set("content-type", call.type);
  return SELF.fetch(`http://control${path}`, { method: call.method ?? (body === undefined ? "GET" : "POST"), headers, body });
}

/** Asserts the status and returns the JSON body. */
export async function expectJson<T>(pending: Response | Promise<Response>, status = 200): Promise<T> {
  const response = await pending;
  const body = await response.text();
  expect(response.status, body).toBe(status);
  return JSON.parse(body) as T;
}

/** Asserts an error response: its status, and a body `{ error: { code, message } }` with that code. */
export async function expectError(pending: Response | Promise<Response>, status: number, code: ErrorCode): Promise<void> {
  const response = await pending;
  const body: unknown = await response.json();
  expect({ status: response.status, body }).toMatchObject({ status, body: { error: { code } } });
  expect(isErrorBody(body)).toBe(true);
}

export const uniqueName = (prefix: string) => `${prefix}-${crypto.randomUUID().slice(0, 8)}`;

export async function createTenant(name = uniqueName("tenant")): Promise<{ tenant: string; apiKey: string }> {
  return expectJson(api("/v1/tenants", { token: ADMIN_KEY, json: { name } }), 201);
}

export function jobSpec(plan: Partial<JobSpecInput["plan"]> = {}): JobSpecInput {
  return {
    name: "tiny",
    model: { format: "tfjs-layers", topology: TOPOLOGY, weightSpecs: TENSORS },
    plan: { rounds: 2, clientsPerRound: 2, localEpochs: 1, roundDeadlineSeconds: 3600, ...plan },
  };
}

export function createJob(apiKey: string, plan?: Partial<JobSpecInput["plan"]>): Promise<JobStatus> {
  return expectJson(api("/v1/jobs", { token: apiKey, json: jobSpec(plan) }), 201);
}

export const modelMessage = (values: Float32Array = SEED) => encodeWeights({ kind: "model", codec: "fp32", tensors: TENSORS }, values);

export function seedModel(apiKey: string, jobId: string, values: Float32Array = SEED): Promise<JobStatus> {
  return expectJson(api(`/v1/jobs/${jobId}/model`, { method: "PUT", token: apiKey, type: WEIGHTS_MEDIA_TYPE, body: modelMessage(values) }));
}

/** A new tenant with one seeded job (round 1 open). */
export async function runningJob(plan?: Partial<JobSpecInput["plan"]>) {
  const { tenant, apiKey } = await createTenant();
  const { id } = await createJob(apiKey, plan);
  const job = await seedModel(apiKey, id);
  return { tenant, apiKey, job };
}

export function jobStatus(apiKey: string, jobId: string): Promise<JobStatus> {
  return expectJson(api(`/v1/jobs/${jobId}`, { token: apiKey }));
}

/**
 * The job's status without its starvation figures: what a request can change. The figures observe
 * the devices about and move when a client-manager shard reports (on its alarm), whatever the request.
 */
export async function jobRecord(apiKey: string, jobId: string): Promise<Omit<JobStatus, "starvation">> {
  const { starvation: _observed, ...status } = await jobStatus(apiKey, jobId);
  return status;
}

export function registerClient(): Promise<{ clientId: string; token: string }> {
  return expectJson(api("/v1/clients", { json: {} }), 201);
}

export function checkIn(token: string): Promise<CheckInReply> {
  return expectJson(api("/v1/checkin", { token, json: { attributes: { platform: "test" } } }));
}

/** Checks in and asserts that the client was given a task of `jobId`. */
export async function taskFor(token: string, jobId: string): Promise<Task> {
  const reply = await checkIn(token);
  expect(reply).toMatchObject({ status: "task", task: { jobId } });
  return (reply as Extract<CheckInReply, { status: "task" }>).task;
}

export const delta = (values: number[], meta: Record<string, unknown> = { examples: 1 }, tensors = TENSORS, kind: "delta" | "model" = "delta") =>
  encodeWeights({ kind, codec: "fp32", tensors, meta }, Float32Array.from(values));

export function uploadDelta(token: string, task: Pick<Task, "uploadUrl" | "ticket">, body: BodyInit, ticket = task.ticket): Promise<Response> {
  return api(task.uploadUrl, { token, type: WEIGHTS_MEDIA_TYPE, headers: { [TICKET_HEADER]: ticket }, body });
}

export const jobStub = (jobId: string) => testEnv.JOBS.get(testEnv.JOBS.idFromName(jobId));

/** Fires the job's alarm (aggregation runs on it) until round `round` has the given status. */
export async function waitForRound(apiKey: string, jobId: string, round: number, status: RoundRecord["status"]): Promise<JobStatus> {
  for (let i = 0; i < 50; i++) {
    await runDurableObjectAlarm(jobStub(jobId));
    const current = await jobStatus(apiKey, jobId);
    if (current.rounds.some((r) => r.round === round && r.status === status)) return current;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`round ${round} of ${jobId} never became ${status}`);
}

/** Cancels every running job, so that check-ins in the next test reach that test's job (storage is per file). */
export async function cancelRunningJobs(): Promise<void> {
  for (const job of await directoryOf(testEnv).runningJobs()) {
    // A job that ended just now may still be listed as running: the directory hears of it a moment later.
    await unwrap(jobOf(testEnv, job.id).cancel(job.tenant)).catch((error: unknown) => {
      if ((error as { code?: string }).code !== "job_not_running") throw error;
    });
  }
}

/** A body one byte over `limit`, sent with its Content-Length (spaces: not valid JSON, nor weights). */
export const oversized = (limit: number) => new Uint8Array(limit + 1).fill(0x20);

/** A body over `limit` bytes, streamed in 64 KiB chunks without a Content-Length. */
export function streamed(limit: number): ReadableStream<Uint8Array> {
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const write = async () => {
    for (let sent = 0; sent <= limit; sent += 64 << 10) await writer.write(new Uint8Array(64 << 10).fill(0x20));
    await writer.close();
  };
  write().catch(() => undefined); // the Worker stops reading once the body is over its limit
  return readable;
}

/** The float32 values of a weights.bin response. */
export async function weightsOf(response: Response): Promise<number[]> {
  expect(response.status).toBe(200);
  return Array.from(new Float32Array(await response.arrayBuffer()));
}

/**
 * The text frames a WebSocket (accepted in the test) is sent, in order: `nextFrame` gives the next
 * one, waiting for it up to `timeoutMs`.
 */
export function frameQueue(ws: WebSocket): (timeoutMs?: number) => Promise<string> {
  const frames: string[] = [];
  const waiters: ((frame: string) => void)[] = [];
  ws.addEventListener("message", (event) => {
    const frame = String(event.data);
    const waiter = waiters.shift();
    if (waiter) waiter(frame);
    else frames.push(frame);
  });
  return (timeoutMs = 10_000) =>
    new Promise<string>((resolve, reject) => {
      const queued = frames.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error("no frame came")), timeoutMs);
      waiters.push((frame) => (clearTimeout(timer), resolve(frame)));
    });
}
