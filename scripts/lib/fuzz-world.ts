import { createHash } from "node:crypto";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { linearModel } from "@propius/edge-runtime/demo";
import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, encodeWeights, type CheckInReply, type JobSpecInput, type Task, type TensorSpec } from "@propius/shared";
import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";

/**
 * The state a fuzz run attacks: two tenants, tenant A's running job with its model and three
 * devices bound to its round (one has uploaded, two hold unused tickets), tenant B's job waiting
 * for its model, devices enrolled and waiting, and the model's hash. The round has room for the
 * three bound devices only, so the waiting devices' check-ins bind nothing.
 */
export interface Device {
  clientId: string;
  token: string;
}
export interface BoundDevice extends Device {
  task: Task;
}
export interface World {
  url: string;
  adminKey: string;
  tokenSecret: string;
  owner: { tenant: string; apiKey: string };
  other: { tenant: string; apiKey: string; jobId: string };
  jobId: string;
  tensors: TensorSpec[];
  modelHash: string;
  /** Bound to the round: `hostile` is the device whose token and ticket the hostile requests use; `unused` keeps its ticket for the check afterwards; `uploaded` has sent its delta. */
  hostile: BoundDevice;
  unused: BoundDevice;
  uploaded: BoundDevice;
  /** Enrolled, not bound: the canaries check in as these. */
  waiting: Device[];
}

export interface Answer {
  status: number;
  body: unknown;
  bytes: Uint8Array;
}

/** One request to the control plane: `json` sets the body and its content type. */
export async function call(url: string, method: string, path: string, init: { token?: string; json?: unknown; body?: Uint8Array<ArrayBuffer>; type?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.type) headers["content-type"] = init.type;
  const response = await fetch(`${url}${path}`, { method, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const bytes = new Uint8Array(await response.arrayBuffer());
  let body: unknown = null;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // not JSON: a model's bytes, the reference page
  }
  return { status: response.status, body, bytes };
}

async function expect<T>(pending: Promise<Answer>, status: number, what: string): Promise<T> {
  const answer = await pending;
  if (answer.status !== status) throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as T;
}

export const FUZZ_MODEL = linearModel(4, 2);

/** A delta for the world's job, as its devices send one. */
export function validDelta(tensors: TensorSpec[], value = 0.01, examples = 1): Uint8Array<ArrayBuffer> {
  const size = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return encodeWeights({ kind: "delta", codec: "fp32", tensors, meta: { examples } }, new Float32Array(size).fill(value));
}

export function upload(world: World, device: BoundDevice, body: Uint8Array<ArrayBuffer>): Promise<Answer> {
  return call(world.url, "POST", new URL(device.task.uploadUrl, world.url).pathname, { token: device.token, type: WEIGHTS_MEDIA_TYPE, headers: { [TICKET_HEADER]: device.task.ticket }, body });
}

export async function buildWorld(url: string, adminKey: string, tokenSecret: string): Promise<World> {
  const tenant = (name: string) => expect<{ tenant: string; apiKey: string }>(call(url, "POST", "/v1/tenants", { token: adminKey, json: { name } }), 201, "create a tenant");
  const owner = await tenant("fuzz-owner");
  const other = await tenant("fuzz-other");
  const spec: JobSpecInput = {
    name: "fuzzed",
    model: FUZZ_MODEL,
    plan: { rounds: 2, clientsPerRound: 3, overCommit: 1, minReportFraction: 1, roundDeadlineSeconds: 86_400, selectionTimeoutSeconds: 86_400, leaseSeconds: 86_400, localSteps: 1 },
  };
  const tensors = FUZZ_MODEL.weightSpecs;
  const seed = encodeWeights({ kind: "model", codec: "fp32", tensors }, new Float32Array(8).fill(0.5));
  const { id: jobId } = await expect<{ id: string }>(call(url, "POST", "/v1/jobs", { token: owner.apiKey, json: spec }), 201, "create the job");
  await expect(call(url, "PUT", `/v1/jobs/${jobId}/model`, { token: owner.apiKey, type: WEIGHTS_MEDIA_TYPE, body: seed }), 200, "set the job's model");
  const { id: otherJob } = await expect<{ id: string }>(call(url, "POST", "/v1/jobs", { token: other.apiKey, json: { ...spec, name: "other-tenant" } }), 201, "create the other tenant's job");
  const enrol = () => expect<Device>(call(url, "POST", "/v1/clients", { json: { attributes: {} } }), 201, "enrol a device");
  const bind = async (): Promise<BoundDevice> => {
    const device = await enrol();
    const reply = await expect<CheckInReply>(call(url, "POST", "/v1/checkin", { token: device.token, json: { attributes: { platform: "node" } } }), 200, "check in");
    if (reply.status !== "task" || reply.task.jobId !== jobId) throw new Error(`a device to bind got ${JSON.stringify(reply)}`);
    return { ...device, task: reply.task };
  };
  const [hostile, unused, uploaded] = [await bind(), await bind(), await bind()];
  const world: World = { url, adminKey, tokenSecret, owner, other: { ...other, jobId: otherJob }, jobId, tensors, modelHash: hostile.task.modelHash, hostile, unused, uploaded, waiting: [] };
  await expect(upload(world, uploaded, validDelta(tensors)), 202, "upload a delta");
  for (let i = 0; i < 4; i++) world.waiting.push(await enrol());
  return world;
}

/** What the run must leave as it was, read through the API. */
export interface Snapshot {
  job: unknown;
  otherJob: unknown;
  jobs: unknown;
  otherJobs: unknown;
  devices: unknown;
  model: { version: string; weights: string; modelJson: unknown };
  /** The uploaded device's ticket, replayed: refused as used, before and after. */
  replay: { status: number; code: unknown };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const codeOf = (body: unknown) => (body as { error?: { code?: string } } | null)?.error?.code;

export async function snapshot(world: World): Promise<Snapshot> {
  const { url, owner, other, jobId } = world;
  const read = async (path: string, token: string) => expect<unknown>(call(url, "GET", path, { token }), 200, `read ${path}`);
  // A job's starvation figures observe the devices about: they move with every check-in, whatever it asks.
  const withoutStarvation = (status: unknown) => ({ ...(status as object), starvation: undefined });
  const version = await call(url, "GET", `/v1/models/${world.modelHash}`, { token: world.hostile.token });
  const weights = await call(url, "GET", `/v1/jobs/${jobId}/model/weights.bin`, { token: owner.apiKey });
  const replay = await upload(world, world.uploaded, validDelta(world.tensors, 0.02));
  return {
    job: withoutStarvation(await read(`/v1/jobs/${jobId}`, owner.apiKey)),
    otherJob: withoutStarvation(await read(`/v1/jobs/${other.jobId}`, other.apiKey)),
    jobs: await read("/v1/jobs", owner.apiKey),
    otherJobs: await read("/v1/jobs", other.apiKey),
    devices: await read(`/v1/jobs/${jobId}/devices`, owner.apiKey),
    model: { version: `${version.status} ${sha(version.bytes)}`, weights: `${weights.status} ${sha(weights.bytes)}`, modelJson: await read(`/v1/jobs/${jobId}/model/model.json`, owner.apiKey) },
    replay: { status: replay.status, code: codeOf(replay.body) },
  };
}

/** The top-level parts of two snapshots that differ. */
export function differences(before: Snapshot, after: Snapshot): string[] {
  return (Object.keys(before) as (keyof Snapshot)[]).filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).map((key) => `${key}: ${JSON.stringify(before[key]).slice(0, 300)} -> ${JSON.stringify(after[key]).slice(0, 300)}`);
}

export async function counters(world: World): Promise<CountersTotal> {
  return expect<CountersTotal>(call(world.url, "GET", `/v1/admin/counters?job=${world.jobId}`, { token: world.adminKey }), 200, "read the counters");
}

/**
 * The Durable Objects whose databases hold a table of the control plane's, and the model blobs,
 * under the state folder. Locally every object given a name gets a database of its own with one
 * table, `__miniflare_do_name` (wrangler's, recording the name; nothing on Cloudflare): an object
 * counts as stored only when its database (or its write-ahead log, not yet checkpointed) holds
 * the schema of another table.
 */
export async function storedObjects(stateDir: string): Promise<{ files: string[]; blobs: string[] }> {
  const files: string[] = [];
  const blobs: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (dir.includes(join("v3", "r2")) && dir.endsWith("blobs")) blobs.push(path);
      else if (/\.sqlite$/.test(entry.name) && entry.name !== "metadata.sqlite" && dir.includes(join("v3", "do")) && (await holdsTables(path))) files.push(path);
    }
  };
  await walk(stateDir);
  return { files: files.sort(), blobs: blobs.sort() };
}

async function holdsTables(path: string): Promise<boolean> {
  const text = Buffer.concat([await readFile(path).catch(() => Buffer.alloc(0)), await readFile(`${path}-wal`).catch(() => Buffer.alloc(0))]).toString("latin1");
  for (const match of text.matchAll(/CREATE TABLE\s+(?:IF NOT EXISTS\s+)?"?([A-Za-z_][A-Za-z0-9_]*)/gi)) if (match[1] !== "__miniflare_do_name" && !match[1].startsWith("_cf_")) return true;
  return false;
}
