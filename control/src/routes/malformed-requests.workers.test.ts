import { beforeAll, describe, expect, it } from "vitest";
import { WEIGHTS_MEDIA_TYPE, type ErrorCode, type JobStatus } from "@propius/shared";
import {
  ADMIN_KEY,
  api,
  createJob,
  createTenant,
  delta,
  expectError,
  expectJson,
  jobSpec,
  jobRecord,
  modelMessage,
  oversized,
  registerClient,
  seedModel,
  streamed,
  type Call,
} from "../../test/fixtures.js";

/**
 * Acceptance: malformed requests to the operator's and job owners' routes each get a 4xx with a
 * stable error code and change nothing. (Device routes: malformed-device-requests.workers.test.ts.)
 */
interface World {
  a: { tenant: string; apiKey: string };
  b: { tenant: string; apiKey: string; jobId: string };
  running: JobStatus;
  pending: JobStatus;
  cancelled: JobStatus;
  clientToken: string;
}
let w: World;
let before: Awaited<ReturnType<typeof snapshot>>;
let bBefore: unknown;

/** What a refused request could have changed: tenant a's jobs and their states, and the running job's rounds and model. */
async function snapshot() {
  const list = await expectJson(api("/v1/jobs", { token: w.a.apiKey }));
  const keys = await expectJson(api("/v1/keys", { token: w.a.apiKey }));
  const enrolmentTokens = await expectJson(api("/v1/enrolment-tokens", { token: w.a.apiKey }));
  return { list, keys, enrolmentTokens, running: await jobRecord(w.a.apiKey, w.running.id) };
}

beforeAll(async () => {
  const [a, b] = [await createTenant(), await createTenant()];
  const running = await createJob(a.apiKey);
  await seedModel(a.apiKey, running.id);
  const pending = await createJob(a.apiKey);
  const cancelled = await createJob(a.apiKey);
  await expectJson(api(`/v1/jobs/${cancelled.id}/cancel`, { method: "POST", token: a.apiKey }));
  const bJob = await createJob(b.apiKey);
  w = { a, b: { ...b, jobId: bJob.id }, running, pending, cancelled, clientToken: (await registerClient()).token };
  before = await snapshot();
  bBefore = await expectJson(api("/v1/jobs", { token: b.apiKey }));
}, 120_000);

type Case = [name: string, status: number, code: ErrorCode, send: () => Promise<Response>];

const owner = (path: string, call: Call = {}) => api(path, { token: w.a.apiKey, ...call });
const admin = (call: Call) => api("/v1/tenants", { token: ADMIN_KEY, ...call });
const put = (id: string, type: string, body: BodyInit) => owner(`/v1/jobs/${id}/model`, { method: "PUT", type, body });
const metrics = (round: string, call: Call = { json: { testAccuracy: 0.5 } }) => owner(`/v1/jobs/${w.running.id}/rounds/${round}/metrics`, call);
const raw = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

/** Every owner route, with a well-formed request that only its credentials or job id can spoil. */
const OWNER_ROUTES: { route: string; method: string; path: (id: string) => string; call?: () => Call; job?: () => string }[] = [
  { route: "POST /v1/jobs", method: "POST", path: () => "/v1/jobs", call: () => ({ json: jobSpec() }) },
  { route: "GET /v1/jobs", method: "GET", path: () => "/v1/jobs" },
  { route: "GET /v1/jobs/:id", method: "GET", path: (id) => `/v1/jobs/${id}` },
  { route: "PATCH /v1/jobs/:id", method: "PATCH", path: (id) => `/v1/jobs/${id}`, call: () => ({ json: { clientsPerRound: 5 } }) },
  { route: "PUT /v1/jobs/:id/model", method: "PUT", path: (id) => `/v1/jobs/${id}/model`, call: () => ({ type: WEIGHTS_MEDIA_TYPE, body: modelMessage() }), job: () => w.pending.id },
  { route: "GET /v1/jobs/:id/model/model.json", method: "GET", path: (id) => `/v1/jobs/${id}/model/model.json` },
  { route: "GET /v1/jobs/:id/model/weights.bin", method: "GET", path: (id) => `/v1/jobs/${id}/model/weights.bin` },
  { route: "POST /v1/jobs/:id/cancel", method: "POST", path: (id) => `/v1/jobs/${id}/cancel` },
  { route: "DELETE /v1/jobs/:id", method: "DELETE", path: (id) => `/v1/jobs/${id}`, job: () => w.cancelled.id },
  { route: "POST /v1/jobs/:id/rounds/:round/metrics", method: "POST", path: (id) => `/v1/jobs/${id}/rounds/1/metrics`, call: () => ({ json: { testAccuracy: 0.5 } }) },
  { route: "GET /v1/jobs/:id/devices", method: "GET", path: (id) => `/v1/jobs/${id}/devices` },
  { route: "POST /v1/jobs/:id/events/token", method: "POST", path: (id) => `/v1/jobs/${id}/events/token` },
  { route: "GET /v1/keys", method: "GET", path: () => "/v1/keys" },
  { route: "POST /v1/keys", method: "POST", path: () => "/v1/keys" },
  { route: "DELETE /v1/keys/:keyId", method: "DELETE", path: () => "/v1/keys/000000000000" },
  { route: "POST /v1/keys/:keyId/rotate", method: "POST", path: () => "/v1/keys/000000000000/rotate" },
  { route: "POST /v1/enrolment-tokens", method: "POST", path: () => "/v1/enrolment-tokens", call: () => ({ json: {} }) },
  { route: "GET /v1/enrolment-tokens", method: "GET", path: () => "/v1/enrolment-tokens" },
  { route: "DELETE /v1/enrolment-tokens/:tokenId", method: "DELETE", path: () => "/v1/enrolment-tokens/000000000000" },
];

/** `?limit=` values the devices route must refuse: hand-picked, then generated (seeded) from integers out of range, fractions and junk. */
const badLimits = (() => {
  let seed = 11;
  const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const junk = "abc-+.eE ,%00[]{}";
  const generated = Array.from({ length: 12 }, (_, i) =>
    i % 3 === 0 ? String(1001 + Math.floor(next() * 1e9)) : i % 3 === 1 ? (next() * 1000 + 0.5).toFixed(2) : Array.from({ length: 1 + Math.floor(next() * 6) }, () => junk[Math.floor(next() * junk.length)]).join(""),
  );
  return ["0", "-1", "1001", "1.5", "", "ten", "1e9", ...generated];
})();

const credentialCases: Case[] = OWNER_ROUTES.flatMap(({ route, method, path, call, job }): Case[] => {
  const send = (authorization?: string, id = job?.() ?? w.running.id) =>
    api(path(id), { method, ...call?.(), headers: authorization ? { authorization } : {} });
  return [
    [`${route}: missing Authorization`, 401, "unauthorized", () => send()],
    [`${route}: Basic instead of Bearer`, 401, "unauthorized", () => send(`Basic ${w.a.apiKey}`)],
    [`${route}: unknown API key`, 401, "unauthorized", () => send(`Bearer pk_${w.a.tenant}_${"x".repeat(32)}`)],
    [`${route}: client token instead of an API key`, 401, "unauthorized", () => send(`Bearer ${w.clientToken}`)],
    [`${route}: admin key instead of an API key`, 401, "unauthorized", () => send(`Bearer ${ADMIN_KEY}`)],
    ...(route.includes(":id")
      ? ([
          [`${route}: another tenant's job`, 404, "job_not_found", () => send(`Bearer ${w.b.apiKey}`)],
          [`${route}: a job id of the wrong shape`, 404, "job_not_found", () => send(`Bearer ${w.a.apiKey}`, "not-a-job")],
          [`${route}: an over-long job id`, 404, "job_not_found", () => send(`Bearer ${w.a.apiKey}`, `job_${"a".repeat(65)}`)],
          [`${route}: an unknown job id`, 404, "job_not_found", () => send(`Bearer ${w.a.apiKey}`, "job_doesnotexist")],
        ] satisfies Case[])
      : []),
  ];
});

const bodyCases: Case[] = [
  ["POST /v1/tenants: missing Authorization", 401, "unauthorized", () => api("/v1/tenants", { json: { name: "ghost" } })],
  ["POST /v1/tenants: wrong admin key", 401, "unauthorized", () => admin({ token: "not-the-admin-key", json: { name: "ghost" } })],
  ["POST /v1/tenants: a tenant's API key", 401, "unauthorized", () => admin({ token: w.a.apiKey, json: { name: "ghost" } })],
  ["POST /v1/tenants: a client token", 401, "unauthorized", () => admin({ token: w.clientToken, json: { name: "ghost" } })],
  ["POST /v1/tenants: text/plain", 415, "unsupported_media_type", () => admin({ type: "text/plain", body: '{"name":"ghost"}' })],
  ["POST /v1/tenants: bad JSON", 400, "invalid_json", () => admin({ json: '{"name":' })],
  ["POST /v1/tenants: missing name", 400, "validation_failed", () => admin({ json: {} })],
  ["POST /v1/tenants: mistyped name", 400, "validation_failed", () => admin({ json: { name: 42 } })],
  ["POST /v1/tenants: name with spaces and capitals", 400, "validation_failed", () => admin({ json: { name: "Ghost Tenant" } })],
  ["POST /v1/tenants: body over 1 MiB", 413, "payload_too_large", () => admin({ type: "application/json", body: oversized(1 << 20) })],
  ["POST /v1/tenants: streamed body over 1 MiB", 413, "payload_too_large", () => admin({ type: "application/json", body: streamed(1 << 20) })],

  ["POST /v1/jobs: text/plain", 415, "unsupported_media_type", () => owner("/v1/jobs", { type: "text/plain", body: JSON.stringify(jobSpec()) })],
  ["POST /v1/jobs: bad JSON", 400, "invalid_json", () => owner("/v1/jobs", { json: "{ name: tiny }" })],
  ["POST /v1/jobs: empty body", 400, "invalid_json", () => owner("/v1/jobs", { type: "application/json", body: "" })],
  ["POST /v1/jobs: JSON null", 400, "validation_failed", () => owner("/v1/jobs", { json: "null" })],
  ["POST /v1/jobs: missing fields", 400, "validation_failed", () => owner("/v1/jobs", { json: { name: "tiny" } })],
  ["POST /v1/jobs: mistyped rounds", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), plan: { ...jobSpec().plan, rounds: "two" } } })],
  ["POST /v1/jobs: zero clients per round", 400, "validation_failed", () => owner("/v1/jobs", { json: jobSpec({ clientsPerRound: 0 }) })],
  ["POST /v1/jobs: neither localEpochs nor localSteps", 400, "validation_failed", () => owner("/v1/jobs", { json: jobSpec({ localEpochs: undefined }) })],
  ["POST /v1/jobs: an int32 tensor", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), model: { ...jobSpec().model, weightSpecs: [{ name: "w", shape: [2], dtype: "int32" }] } } })],
  ["POST /v1/jobs: no tensors", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), model: { ...jobSpec().model, weightSpecs: [] } } })],
  ["POST /v1/jobs: a constraint with min above max", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), constraints: { ram_gb: { min: 8, max: 4 } } } })],
  ["POST /v1/jobs: a constraint with no bound", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), constraints: { ram_gb: {} } } })],
  ["POST /v1/jobs: an empty set constraint", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), privateConstraints: { platform: { in: [] } } } })],
  ["POST /v1/jobs: an unknown strategy", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), aggregation: { strategy: "fedsgd" } } })],
  ["POST /v1/jobs: a momentum of 1", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), aggregation: { strategy: "fedavgm", momentum: 1 } } })],
  ["POST /v1/jobs: an unknown weighting", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), aggregation: { strategy: "fedavg", weighting: "equal" } } })],
  ["POST /v1/jobs: an unknown delta codec", 400, "validation_failed", () => owner("/v1/jobs", { json: jobSpec({ deltaCodec: "int4" as never }) })],
  ["POST /v1/jobs: no aggregator shards", 400, "validation_failed", () => owner("/v1/jobs", { json: jobSpec({ aggregatorShards: 0 }) })],
  ["POST /v1/jobs: 65 aggregator shards", 400, "validation_failed", () => owner("/v1/jobs", { json: jobSpec({ aggregatorShards: 65 }) })],
  ["POST /v1/jobs: an input the model does not take", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), input: { kind: "image", width: 28, height: 28, channels: 1, classes: 10 } } })],
  ["POST /v1/jobs: an input of an unknown kind", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), input: { kind: "audio", classes: 2 } } })],
  ["POST /v1/jobs: a negative priority", 400, "validation_failed", () => owner("/v1/jobs", { json: { ...jobSpec(), priority: -1 } })],
  ["POST /v1/jobs: body over 1 MiB", 413, "payload_too_large", () => owner("/v1/jobs", { type: "application/json", body: oversized(1 << 20) })],
  ["POST /v1/jobs: streamed body over 1 MiB", 413, "payload_too_large", () => owner("/v1/jobs", { type: "application/json", body: streamed(1 << 20) })],

  ["PATCH job: bad JSON", 400, "invalid_json", () => owner(`/v1/jobs/${w.running.id}`, { method: "PATCH", json: "{" })],
  ["PATCH job: text/plain", 415, "unsupported_media_type", () => owner(`/v1/jobs/${w.running.id}`, { method: "PATCH", type: "text/plain", body: "{}" })],
  ["PATCH job: zero clients per round", 400, "validation_failed", () => owner(`/v1/jobs/${w.running.id}`, { method: "PATCH", json: { clientsPerRound: 0 } })],
  ["PATCH job: a field that cannot change", 400, "validation_failed", () => owner(`/v1/jobs/${w.running.id}`, { method: "PATCH", json: { clientsPerRound: 3, rounds: 99 } })],
  ["PATCH job: a cancelled job", 409, "job_not_running", () => owner(`/v1/jobs/${w.cancelled.id}`, { method: "PATCH", json: { clientsPerRound: 3 } })],
  ["PATCH job: body over 1 MiB", 413, "payload_too_large", () => owner(`/v1/jobs/${w.running.id}`, { method: "PATCH", type: "application/json", body: oversized(1 << 20) })],

  ["PUT model: JSON instead of weights", 415, "unsupported_media_type", () => owner(`/v1/jobs/${w.pending.id}/model`, { method: "PUT", json: { weights: [1, 2, 3, 4] } })],
  ["PUT model: empty body", 400, "invalid_update", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, new Uint8Array(0))],
  ["PUT model: not a weights message", 400, "invalid_update", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, "PRW1 but not really")],
  ["PUT model: a delta instead of a model", 400, "invalid_update", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, delta([1, 2, 3, 4]))],
  ["PUT model: wrong tensor shape", 400, "invalid_update", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, delta([1, 2, 3, 4], {}, [{ name: "dense/kernel", shape: [4], dtype: "float32" }], "model"))],
  ["PUT model: non-finite weights", 400, "invalid_update", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, delta([1, Infinity, 3, 4], {}, undefined, "model"))],
  ["PUT model: raw weights of the wrong length", 400, "invalid_update", () => put(w.pending.id, "application/octet-stream", raw(1, 2, 3))],
  ["PUT model: raw NaN weights", 400, "invalid_update", () => put(w.pending.id, "application/octet-stream", raw(1, NaN, 3, 4))],
  ["PUT model: body over the upload limit", 413, "payload_too_large", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, oversized(2_000_000))],
  ["PUT model: streamed body over the upload limit", 413, "payload_too_large", () => put(w.pending.id, WEIGHTS_MEDIA_TYPE, streamed(2_000_000))],
  ["PUT model: seeding a model twice", 409, "model_already_set", () => put(w.running.id, WEIGHTS_MEDIA_TYPE, modelMessage())],

  ["model.json: a job without a model", 404, "model_not_found", () => owner(`/v1/jobs/${w.pending.id}/model/model.json`)],
  ["model.json: a hash the job never produced", 404, "model_not_found", () => owner(`/v1/jobs/${w.running.id}/model/model.json?hash=${"0".repeat(64)}`)],
  ["weights.bin: a job without a model", 404, "model_not_found", () => owner(`/v1/jobs/${w.pending.id}/model/weights.bin`)],
  ["weights.bin: a malformed hash", 404, "model_not_found", () => owner(`/v1/jobs/${w.running.id}/model/weights.bin?hash=../../etc`)],

  ["revoke key: an id no key has", 404, "key_not_found", () => owner("/v1/keys/000000000000", { method: "DELETE" })],
  ["revoke key: an id of the wrong shape", 400, "validation_failed", () => owner("/v1/keys/not-a-key-id", { method: "DELETE" })],
  ["revoke key: another tenant's key", 404, "key_not_found", async () => owner(`/v1/keys/${(await expectJson<{ keys: { id: string }[] }>(api("/v1/keys", { token: w.b.apiKey }))).keys[0].id}`, { method: "DELETE" })],
  ["revoke key: the tenant's last working key", 409, "last_key", async () => owner(`/v1/keys/${(await expectJson<{ keys: { id: string }[] }>(owner("/v1/keys"))).keys[0].id}`, { method: "DELETE" })],
  ["rotate key: an id no key has", 404, "key_not_found", () => owner("/v1/keys/000000000000/rotate", { method: "POST" })],

  ["enrolment token: another tenant's job", 404, "job_not_found", () => owner("/v1/enrolment-tokens", { json: { job: w.b.jobId } })],
  ["enrolment token: a job id of the wrong shape", 400, "validation_failed", () => owner("/v1/enrolment-tokens", { json: { job: "not-a-job" } })],
  ["enrolment token: a field it does not take", 400, "validation_failed", () => owner("/v1/enrolment-tokens", { json: { jobs: [] } })],
  ["enrolment token: revoking an id no token has", 404, "not_found", () => owner("/v1/enrolment-tokens/000000000000", { method: "DELETE" })],

  ["cancel: a job cancelled already", 409, "job_not_running", () => owner(`/v1/jobs/${w.cancelled.id}/cancel`, { method: "POST" })],

  ...badLimits.map((limit): Case => [`devices: limit ${JSON.stringify(limit)}`, 400, "validation_failed", () => owner(`/v1/jobs/${w.running.id}/devices?limit=${encodeURIComponent(limit)}`)]),

  ["metrics: an open round", 409, "conflict", () => metrics("1")],
  ["metrics: a round that never ran", 409, "conflict", () => metrics("99")],
  ["metrics: round 0", 400, "validation_failed", () => metrics("0")],
  ["metrics: a round that is not a number", 400, "validation_failed", () => metrics("one")],
  ["metrics: a round with a leading zero", 400, "validation_failed", () => metrics("01")],
  ["metrics: a round too large", 400, "validation_failed", () => metrics("99999999999")],
  ["metrics: accuracy above 1", 400, "validation_failed", () => metrics("1", { json: { testAccuracy: 1.5 } })],
  ["metrics: mistyped loss", 400, "validation_failed", () => metrics("1", { json: { testLoss: "low" } })],
  ["metrics: bad JSON", 400, "invalid_json", () => metrics("1", { json: "{" })],
  ["metrics: text/plain", 415, "unsupported_media_type", () => metrics("1", { type: "text/plain", body: "{}" })],
  ["metrics: body over 1 MiB", 413, "payload_too_large", () => metrics("1", { type: "application/json", body: oversized(1 << 20) })],
];

describe("malformed requests to the operator's and owners' routes", () => {
  it.each([...credentialCases, ...bodyCases])("%s: %i %s, and nothing changes", async (_name, status, code, send) => {
    await expectError(send(), status, code);
    expect(await snapshot()).toEqual(before);
  });

  it("covers every route of the OpenAPI document that takes a tenant's API key alone", async () => {
    const document = await expectJson<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>(api("/v1/openapi.json"));
    const ownerRoutes = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, op]) => JSON.stringify(op.security) === JSON.stringify([{ apiKey: [] }]))
        .map(([method]) => `${method.toUpperCase()} ${path.replaceAll(/\{([^}]+)\}/g, ":$1")}`),
    );
    expect(OWNER_ROUTES.map((r) => r.route).sort()).toEqual(ownerRoutes.sort());
  });

  it("stores nothing when a model is seeded twice", async () => {
    const second = modelMessage(Float32Array.of(9, 9, 9, 9));
    await expectError(put(w.running.id, WEIGHTS_MEDIA_TYPE, second), 409, "model_already_set");
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", second));
    const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    await expectError(owner(`/v1/models/${hash}`), 404, "model_not_found");
  });

  it("created no tenant and touched no other tenant's jobs for the refused requests", async () => {
    expect(await expectJson(admin({ json: { name: "ghost" } }), 201)).toMatchObject({ tenant: "ghost", created: true });
    expect(await expectJson(api("/v1/jobs", { token: w.b.apiKey }))).toEqual(bBefore);
  });
});
