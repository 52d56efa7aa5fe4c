import { beforeAll, describe, expect, it } from "vitest";
import { TICKET_HEADER, WEIGHTS_MEDIA_TYPE, decodeWeightsHeader, encodeWeights, type ErrorCode, type JobStatus, type Task } from "@propius/shared";
import { issueClientToken } from "../auth/tokens.js";
import {
  ADMIN_KEY,
  api,
  delta,
  expectError,
  expectJson,
  jobRecord,
  jobStatus,
  oversized,
  registerClient,
  runningJob,
  streamed,
  taskFor,
  uploadDelta,
  waitForRound,
  type Call,
} from "../../test/fixtures.js";

/**
 * Acceptance: malformed requests to the device routes (enrolment, check-in, updates, models) each
 * get a 4xx with a stable error code and change nothing: no binding, no accepted update.
 */
type Device = { clientId: string; token: string };
interface World {
  owner: { apiKey: string };
  job: JobStatus;
  other: { apiKey: string; job: JobStatus };
  c1: Device & { task: Task };
  c2: Device & { task: Task };
  c3: Device & { task: Task };
  x: Device & { task: Task };
  fresh: Device;
  /** Devices bound to `job` whose tickets the bad bodies spend, one each (a refused upload spends its ticket). */
  spenders: (Device & { task: Task })[];
  forged: string;
  tampered: string;
  expired: string;
  legacy: string;
}
let w: World;
let before: Awaited<ReturnType<typeof snapshot>>;

/** The token secret the workers tests run with (vitest.config.ts). */
const TOKEN_SECRET = "test-token-secret";
const hmac = async (secret: string, message: string) => {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const bytes = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
};

const snapshot = async () => ({ job: await jobRecord(w.owner.apiKey, w.job.id), other: await jobRecord(w.other.apiKey, w.other.job.id) });
const withTask = async (jobId: string) => {
  const device = await registerClient();
  return { ...device, task: await taskFor(device.token, jobId) };
};

beforeAll(async () => {
  // The older job takes one device (x); the check-ins after it go to `job`.
  const other = await runningJob({ clientsPerRound: 1, overCommit: 1 });
  const x = await withTask(other.job.id);
  const { apiKey, job } = await runningJob({ clientsPerRound: 2, overCommit: 9 });
  const [c1, c2, c3] = [await withTask(job.id), await withTask(job.id), await withTask(job.id)];
  const spenders = [];
  for (let i = 0; i < SPENT_CASES; i++) spenders.push(await withTask(job.id));
  expect((await uploadDelta(c1.token, c1.task, delta([1, 1, 1, 1]))).status).toBe(202);
  const fresh = await registerClient();
  const forged = (await issueClientToken("not-the-token-secret", fresh.clientId, Date.now() + 3_600_000)).token;
  const tampered = `ct_${c2.clientId}.${c1.token.split(".").slice(1).join(".")}`;
  // Genuine tokens (the test Worker's secret) that no longer open anything: one past its expiry, one of the first form (no expiry).
  const expired = (await issueClientToken(TOKEN_SECRET, fresh.clientId, Date.now() - 1_000)).token;
  const legacy = `ct_${fresh.clientId}.${await hmac(TOKEN_SECRET, fresh.clientId)}`;
  w = { owner: { apiKey }, job, other, c1, c2, c3, x, fresh, spenders, forged, tampered, expired, legacy };
  before = await snapshot();
  expect(before.job.rounds).toMatchObject([{ round: 1, status: "open", bound: 3 + SPENT_CASES, reported: 1 }]);
}, 120_000);

type Case = [name: string, status: number, code: ErrorCode, send: () => Promise<Response>];

const good = () => delta([0.5, 0.5, 0.5, 0.5], { examples: 2 });
/** c2's well-formed update for round 1 of `job`, spoilt by `change`. */
const update = (change: { token?: string; ticket?: string | null; path?: string; type?: string; body?: BodyInit } = {}) => {
  const ticket = change.ticket === undefined ? w.c2.task.ticket : change.ticket;
  return api(change.path ?? w.c2.task.uploadUrl, {
    token: change.token ?? w.c2.token,
    type: change.type ?? WEIGHTS_MEDIA_TYPE,
    headers: ticket === null ? {} : { [TICKET_HEADER]: ticket },
    body: change.body ?? good(),
  });
};
/**
 * How many cases send a bad body with a good ticket: each spends the ticket of a device of its own.
 * (A body the Worker cuts at the upload limit does not spend it: the streamed case keeps c2's.)
 */
const SPENT_CASES = 14;
let spent = 0;
/** A bad body sent with the ticket of the next spender: refused as invalid_update, which spends that ticket. */
const spend = (body: BodyInit) => {
  const device = w.spenders[spent++];
  return update({ token: device.token, ticket: device.task.ticket, body });
};

/** c2's report on its task of round 1 (a failure, or an evaluation), spoilt by `change`. */
const report = (kind: "failures" | "evaluations", change: { ticket?: string; json?: unknown; type?: string; body?: string } = {}) =>
  api(`/v1/jobs/${w.job.id}/rounds/1/${kind}`, {
    token: w.c2.token,
    headers: { [TICKET_HEADER]: change.ticket ?? w.c2.task.ticket },
    ...(change.body !== undefined ? { type: change.type ?? "application/json", body: change.body } : { json: change.json ?? (kind === "failures" ? { code: "training_error", message: "x" } : { examples: 1, loss: 0.1, accuracy: 0.5 }) }),
  });
const checkin = (call: Call) => api("/v1/checkin", { token: w.fresh.token, json: { attributes: {} }, ...call });
const ping = (call: Call) => api("/v1/ping", { token: w.fresh.token, json: {}, ...call });
const enrol = (call: Call) => api("/v1/clients", call);
const model = (token: string, hash = w.job.modelHash!) => api(`/v1/models/${hash}`, { token });
const tensor = (shape: number[], name = "dense/kernel") => [{ name, shape, dtype: "float32" as const }];
const int8WithNaNScale = () => {
  const body = encodeWeights({ kind: "delta", codec: "int8", tensors: tensor([2, 2]), meta: { examples: 1 } }, Float32Array.of(1, 2, 3, 4));
  new DataView(body.buffer).setFloat32(decodeWeightsHeader(body).dataOffset, Number.NaN, true);
  return body;
};
/** An fp16 delta whose first value is the half-precision encoding of +infinity (0x7c00). */
const fp16Infinity = () => {
  const body = encodeWeights({ kind: "delta", codec: "fp16", tensors: tensor([2, 2]), meta: { examples: 1 } }, Float32Array.of(1, 2, 3, 4));
  new DataView(body.buffer).setUint16(decodeWeightsHeader(body).dataOffset, 0x7c00, true);
  return body;
};

const cases: Case[] = [
  ["POST /v1/clients: text/plain", 415, "unsupported_media_type", () => enrol({ type: "text/plain", body: "{}" })],
  ["POST /v1/clients: bad JSON", 400, "invalid_json", () => enrol({ json: "{attributes" })],
  ["POST /v1/clients: mistyped attributes", 400, "validation_failed", () => enrol({ json: { attributes: "phone" } })],
  ["POST /v1/clients: a nested attribute", 400, "validation_failed", () => enrol({ json: { attributes: { gpu: { cores: 8 } } } })],
  ["POST /v1/clients: body over 1 MiB", 413, "payload_too_large", () => enrol({ type: "application/json", body: oversized(1 << 20) })],
  ["POST /v1/clients: streamed body over 1 MiB", 413, "payload_too_large", () => enrol({ type: "application/json", body: streamed(1 << 20) })],

  ["POST /v1/checkin: missing Authorization", 401, "unauthorized", () => api("/v1/checkin", { json: {} })],
  ["POST /v1/checkin: an API key instead of a client token", 401, "unauthorized", () => checkin({ token: w.owner.apiKey })],
  ["POST /v1/checkin: the admin key", 401, "unauthorized", () => checkin({ token: ADMIN_KEY })],
  ["POST /v1/checkin: a token signed with another secret", 401, "unauthorized", () => checkin({ token: w.forged })],
  ["POST /v1/checkin: a token with another client's id", 401, "unauthorized", () => checkin({ token: w.tampered })],
  ["POST /v1/checkin: a malformed token", 401, "unauthorized", () => checkin({ token: "ct_short.sig" })],
  ["POST /v1/checkin: an expired token", 401, "token_expired", () => checkin({ token: w.expired })],
  ["POST /v1/checkin: a token of the first form, without an expiry", 401, "token_expired", () => checkin({ token: w.legacy })],
  ["POST /v1/clients/token: an expired token", 401, "token_expired", () => api("/v1/clients/token", { method: "POST", token: w.expired })],
  ["POST /v1/clients/token: an API key", 401, "unauthorized", () => api("/v1/clients/token", { method: "POST", token: w.owner.apiKey })],
  ["POST /v1/checkin: text/plain", 415, "unsupported_media_type", () => checkin({ type: "text/plain" })],
  ["POST /v1/checkin: bad JSON", 400, "invalid_json", () => checkin({ json: "[" })],
  ["POST /v1/checkin: mistyped attributes", 400, "validation_failed", () => checkin({ json: { attributes: [1, 2] } })],
  ["POST /v1/checkin: too many attributes", 400, "validation_failed", () => checkin({ json: { attributes: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`a${i}`, i])) } })],
  ["POST /v1/checkin: accept is not a job id", 400, "validation_failed", () => checkin({ json: { attributes: {}, accept: "the first one" } })],
  ["POST /v1/checkin: body over 1 MiB", 413, "payload_too_large", () => checkin({ json: undefined, type: "application/json", body: oversized(1 << 20) })],
  ["POST /v1/checkin: streamed body over 1 MiB", 413, "payload_too_large", () => checkin({ json: undefined, type: "application/json", body: streamed(1 << 20) })],

  ["POST /v1/ping: missing Authorization", 401, "unauthorized", () => api("/v1/ping", { json: {} })],
  ["POST /v1/ping: an API key instead of a client token", 401, "unauthorized", () => ping({ token: w.owner.apiKey })],
  ["POST /v1/ping: bad JSON", 400, "invalid_json", () => ping({ json: "{" })],
  ["POST /v1/ping: mistyped attributes", 400, "validation_failed", () => ping({ json: { attributes: 7 } })],
  ["POST /v1/ping: body over 1 MiB", 413, "payload_too_large", () => ping({ json: undefined, type: "application/json", body: oversized(1 << 20) })],

  ["failures: an unknown code", 400, "validation_failed", () => report("failures", { json: { code: "tired", message: "" } })],
  ["failures: a field it does not take", 400, "validation_failed", () => report("failures", { json: { code: "training_error", mesage: "x" } })],
  ["failures: bad JSON", 400, "invalid_json", () => report("failures", { body: "{" })],
  ["failures: text/plain", 415, "unsupported_media_type", () => report("failures", { type: "text/plain", body: "{}" })],
  ["failures: a ticket never issued", 403, "ticket_invalid", () => report("failures", { ticket: "A".repeat(24) })],
  ["failures: a ticket already reported", 409, "ticket_used", () => api(`/v1/jobs/${w.job.id}/rounds/1/failures`, { token: w.c1.token, headers: { [TICKET_HEADER]: w.c1.task.ticket }, json: { code: "training_error", message: "" } })],
  ["evaluations: a training ticket", 403, "ticket_invalid", () => report("evaluations")],
  ["evaluations: accuracy above 1", 400, "validation_failed", () => report("evaluations", { json: { examples: 1, loss: 0.1, accuracy: 2 } })],
  ["evaluations: no examples", 400, "validation_failed", () => report("evaluations", { json: { examples: 0, loss: 0.1, accuracy: 0.5 } })],
  ["evaluations: a negative loss", 400, "validation_failed", () => report("evaluations", { json: { examples: 1, loss: -1, accuracy: 0.5 } })],
  ["updates: missing Authorization", 401, "unauthorized", () => api(w.c2.task.uploadUrl, { type: WEIGHTS_MEDIA_TYPE, headers: { [TICKET_HEADER]: w.c2.task.ticket }, body: good() })],
  ["updates: an API key instead of a client token", 401, "unauthorized", () => update({ token: w.owner.apiKey })],
  ["updates: a token signed with another secret", 401, "unauthorized", () => update({ token: w.forged })],
  ["updates: a token with another client's id", 401, "unauthorized", () => update({ token: w.tampered })],
  ["updates: an expired token", 401, "token_expired", () => update({ token: w.expired })],
  ["updates: no ticket", 403, "ticket_invalid", () => update({ ticket: null })],
  ["updates: a malformed ticket", 403, "ticket_invalid", () => update({ ticket: "short" })],
  ["updates: a ticket never issued", 403, "ticket_invalid", () => update({ ticket: "A".repeat(24) })],
  ["updates: a ticket from another job", 403, "ticket_invalid", () => update({ token: w.x.token, ticket: w.x.task.ticket })],
  ["updates: a ticket sent to another job", 403, "ticket_invalid", () => update({ path: w.x.task.uploadUrl })],
  ["updates: a ticket of another client", 403, "ticket_invalid", () => update({ ticket: w.c3.task.ticket })],
  ["updates: a ticket for another round", 403, "ticket_invalid", () => update({ path: `/v1/jobs/${w.job.id}/rounds/2/updates` })],
  ["updates: a ticket reused", 409, "ticket_used", () => update({ token: w.c1.token, ticket: w.c1.task.ticket })],
  ["updates: round 0", 400, "validation_failed", () => update({ path: `/v1/jobs/${w.job.id}/rounds/0/updates` })],
  ["updates: a round that is not a number", 400, "validation_failed", () => update({ path: `/v1/jobs/${w.job.id}/rounds/first/updates` })],
  ["updates: a job id of the wrong shape", 404, "job_not_found", () => update({ path: "/v1/jobs/nope/rounds/1/updates" })],
  ["updates: an unknown job id", 404, "job_not_found", () => update({ path: "/v1/jobs/job_doesnotexist/rounds/1/updates" })],
  ["updates: octet-stream instead of weights", 415, "unsupported_media_type", () => update({ type: "application/octet-stream" })],
  ["updates: empty body", 400, "invalid_update", () => spend(new Uint8Array(0))],
  ["updates: not a weights message", 400, "invalid_update", () => spend("hello")],
  ["updates: a truncated delta", 400, "invalid_update", () => spend(good().slice(0, -4))],
  ["updates: an int8 delta with a NaN scale", 400, "invalid_update", () => spend(int8WithNaNScale())],
  ["updates: an fp16 delta holding infinity", 400, "invalid_update", () => spend(fp16Infinity())],
  ["updates: a NaN in the delta", 400, "invalid_update", () => spend(delta([1, NaN, 1, 1]))],
  ["updates: an infinite delta", 400, "invalid_update", () => spend(delta([1, 1, -Infinity, 1]))],
  ["updates: the wrong tensor shape", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 1 }, tensor([4])))],
  ["updates: the wrong tensor name", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 1 }, tensor([2, 2], "other")))],
  ["updates: a model instead of a delta", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 1 }, undefined, "model"))],
  ["updates: examples 0", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 0 }))],
  ["updates: no examples", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], {}))],
  ["updates: fractional examples", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 1.5 }))],
  ["updates: a negative train loss", 400, "invalid_update", () => spend(delta([1, 1, 1, 1], { examples: 1, trainLoss: -1 }))],
  ["updates: body over the upload limit", 413, "payload_too_large", () => update({ body: oversized(2_000_000) })],
  ["updates: streamed body over the upload limit", 413, "payload_too_large", () => update({ body: streamed(2_000_000) })],

  ["GET /v1/models/:hash: missing Authorization", 401, "unauthorized", () => api(`/v1/models/${w.job.modelHash}`)],
  ["GET /v1/models/:hash: an unknown API key", 401, "unauthorized", () => model("pk_nobody_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")],
  ["GET /v1/models/:hash: a forged client token", 401, "unauthorized", () => model(w.forged)],
  ["GET /v1/models/:hash: a malformed hash", 404, "model_not_found", () => model(w.c1.token, "abc")],
  ["GET /v1/models/:hash: an upper-case hash", 404, "model_not_found", () => model(w.c1.token, w.job.modelHash!.toUpperCase())],
  ["GET /v1/models/:hash: an unknown hash", 404, "model_not_found", () => model(w.c1.token, "f".repeat(64))],
];

describe("malformed requests to the device routes", () => {
  it.each(cases)("%s: %i %s, and nothing changes", async (_name, status, code, send) => {
    await expectError(send(), status, code);
    expect(await snapshot()).toEqual(before);
  });

  it("spent the ticket of every bad body: the same ticket with a good delta is ticket_used, and nothing is counted", async () => {
    expect(spent).toBe(SPENT_CASES);
    for (const device of w.spenders) await expectError(uploadDelta(device.token, device.task, good()), 409, "ticket_used");
    expect(await snapshot()).toEqual(before);
  });

  it("refused every bad update without counting it", async () => {
    expect((await jobStatus(w.owner.apiKey, w.job.id)).rounds[0]).toMatchObject({ reported: 1, examples: 1, bytesIn: before.job.rounds[0].bytesIn });
  });

  it("rejects a delta for a closed round", async () => {
    expect((await uploadDelta(w.c2.token, w.c2.task, good())).status).toBe(202);
    await expectError(uploadDelta(w.c3.token, w.c3.task, good()), 409, "round_closed");
    await waitForRound(w.owner.apiKey, w.job.id, 1, "closed");
    await expectError(uploadDelta(w.c3.token, w.c3.task, good()), 409, "round_closed");
    const { rounds } = await jobStatus(w.owner.apiKey, w.job.id);
    expect(rounds.map((r) => [r.round, r.status, r.reported])).toEqual([[1, "closed", 2], [2, "open", 0]]);
  });

  it("still binds a well-formed check-in afterwards", async () => {
    expect(await expectJson(checkin({}))).toMatchObject({ status: "task", task: { jobId: w.job.id, round: 2 } });
  });
});
