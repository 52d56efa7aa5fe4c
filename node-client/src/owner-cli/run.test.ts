import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WEIGHTS_MEDIA_TYPE, decodeWeights, type JobStatus } from "@propius/shared";
import type { CliIo } from "./context.js";
import { runCli } from "./run.js";

/**
 * The CLI's output and exit codes for what the control plane answers. The control plane is the
 * CLI's external edge: here a fetch that answers from a table; the real routes answer the CLI in
 * test/integration/owner-cli.test.ts.
 */

interface Request {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  body: Uint8Array;
}

type Answer = (request: Request) => Response;

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "propius-cli-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Runs `propius <line>` against `answers` (keyed `METHOD /path`), with its own config file. */
async function propius(line: string[], answers: Record<string, Answer> = {}, env: Record<string, string> = {}) {
  const requests: Request[] = [];
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { PROPIUS_CONFIG: join(dir, "config", "propius.json"), ...env },
    readSecret: async () => "pk_piped\n",
    fetch: async (input, init = {}) => {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      const body = init.body === undefined || init.body === null ? new Uint8Array() : new Uint8Array(await new Response(init.body).arrayBuffer());
      const request = { method: init.method ?? "GET", path: url.pathname + url.search, authorization: headers.get("authorization"), contentType: headers.get("content-type"), body };
      requests.push(request);
      const answer = answers[`${request.method} ${url.pathname}`];
      return answer ? answer(request) : json(404, { error: { code: "not_found", message: `no route ${request.method} ${url.pathname}` } });
    },
  };
  const code = await runCli(line, io);
  return { code, stdout, stderr, requests };
}

const SPEC = {
  name: "tiny",
  model: { format: "tfjs-layers", topology: { class_name: "Sequential", config: { name: "tiny", layers: [] } }, weightSpecs: [{ name: "w", shape: [2, 3], dtype: "float32" }] },
  plan: { rounds: 2, clientsPerRound: 1, localEpochs: 1 },
};

function status(overrides: Partial<JobStatus> = {}): JobStatus {
  return {
    id: "job_abcdefgh", tenant: "t", name: "tiny", state: "running", createdAt: Date.UTC(2026, 11, 3, 7), updatedAt: Date.UTC(2026, 11, 3, 7, 1),
    currentRound: 1, totalRounds: 2, modelVersion: 1, modelHash: "f".repeat(64),
    spec: { ...SPEC, plan: { ...SPEC.plan, clientsPerRound: 1 }, aggregation: { strategy: "fedavg" } } as unknown as JobStatus["spec"],
    rounds: [
      { round: 1, attempt: 0, status: "closed", demand: 1, bound: 1, reported: 1, failed: { data_mismatch: 1 }, timedOut: 0, examples: 30, trainLoss: 0.51234, testAccuracy: null, testLoss: null, bytesIn: 24, bytesOut: 24, openedAt: 0, selectedAt: 500, aggregatingAt: 2000, closedAt: 2500, baseModel: "a", resultModel: "b", evaluation: { status: "closed", model: "b", demand: 1, bound: 1, reported: 1, failed: {}, examples: 6, accuracy: 0.8333, loss: 0.4, openedAt: 2500, closedAt: 3000 } },
    ],
    ...overrides,
  };
}

const withKey = { PROPIUS_API_KEY: "pk_env" };

describe("propius", () => {
  it("logs in: checks the key, then stores it for that URL in a file of mode 0600", async () => {
    const run = await propius(["login", "--url", "http://cp.test:8787/", "--key", "pk_good"], { "GET /v1/jobs": () => json(200, { jobs: [] }) });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.requests.map((r) => [r.path, r.authorization])).toEqual([["/v1/jobs", "Bearer pk_good"]]);
    const path = join(dir, "config", "propius.json");
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ url: "http://cp.test:8787", keys: { "http://cp.test:8787": "pk_good" } });
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // The next command needs no --url nor key.
    const list = await propius(["jobs", "ls"], { "GET /v1/jobs": () => json(200, { jobs: [{ id: "job_abcdefgh", tenant: "t", name: "tiny", state: "done", createdAt: Date.UTC(2026, 11, 3, 7) }] }) });
    expect(list.requests.map((r) => [`http://cp.test:8787${r.path}`, r.authorization])).toEqual([["http://cp.test:8787/v1/jobs", "Bearer pk_good"]]);
    expect(list.stdout).toBe("id            name  state  created\njob_abcdefgh  tiny  done   2026-12-03 07:00:00Z\n");
  });

  it("reads login's key from stdin, and stores nothing when the control plane refuses it", async () => {
    const run = await propius(["login"], { "GET /v1/jobs": (r) => json(401, { error: { code: "unauthorized", message: `unknown API key ${r.authorization}` } }) });
    expect(run).toMatchObject({ code: 1, stdout: "", stderr: "propius: unauthorized: unknown API key Bearer pk_piped\n" });
    await expect(stat(join(dir, "config", "propius.json"))).rejects.toThrow(/ENOENT/);
  });

  it("says how to log in when it has no key for the control plane", async () => {
    const run = await propius(["jobs", "ls", "--url", "http://elsewhere:1"]);
    expect(run).toMatchObject({ code: 1, stderr: "propius: not logged in to http://elsewhere:1: run `propius login --url http://elsewhere:1` (or set PROPIUS_API_KEY)\n", requests: [] });
  });

  it("shows a job as a line and a row per round", async () => {
    const run = await propius(["jobs", "show", "job_abcdefgh"], { "GET /v1/jobs/job_abcdefgh": () => json(200, status()) }, withKey);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `job_abcdefgh (tiny): running, round 1 of 2, model v1 ${"f".repeat(12)}`,
        "created 2026-12-03 07:00:00Z, updated 2026-12-03 07:01:00Z; 1 devices per round, fedavg",
        "",
        "round  attempt  status  demand  bound  reported  failed  train-loss  fed-acc  test-acc  seconds  select  train  aggregate",
        "    1        0  closed       1      1         1       1      0.5123   0.8333         -      2.5     0.5    1.5        0.5",
        "",
      ].join("\n"),
    );
  });

  it("says when a running job's rounds cannot fill, with the figures", async () => {
    const starvation = { starved: true, eligibleDevices: 2, windowSeconds: 60, demand: 8, minimumReports: 5, attemptsRetried: 3, measuredAt: Date.UTC(2026, 11, 3, 7, 2), admitted: false, reason: "starving: 2 eligible online, needs 5" };
    const starved = await propius(["jobs", "show", "job_abcdefgh"], { "GET /v1/jobs/job_abcdefgh": () => json(200, status({ starvation })) }, withKey);
    expect(starved.stdout.split("\n")[2]).toBe(
      "STARVED: 2 eligible devices seen in the last 60 s, a round needs 5 reports (demand 8); 3 attempts of this round retried; the scheduler holds its rounds back, binding no device, until enough are online",
    );
    const { reason: _, ...fedStarvation } = { ...starvation, starved: false, eligibleDevices: 40, attemptsRetried: 0, admitted: true };
    const fed = await propius(["jobs", "show", "job_abcdefgh"], { "GET /v1/jobs/job_abcdefgh": () => json(200, status({ starvation: fedStarvation })) }, withKey);
    expect(fed.stdout.split("\n")[2]).toBe("devices: 40 eligible devices seen in the last 60 s, a round needs 5 reports (demand 8)");
  });

  it("lists a job's devices, the most recent first, and refuses a limit out of range without asking", async () => {
    const devices = [
      { id: "0123456789abcdef", attributes: { platform: "node", ram_gb: 8 }, roundsBound: 3, updatesAccepted: 2, examples: 120, bytesIn: 4096, failures: { out_of_memory: 1 }, evaluationsReported: 1, firstSeen: Date.UTC(2026, 11, 3, 7), lastSeen: Date.UTC(2026, 11, 3, 7, 5) },
      { id: "fedcba9876543210", attributes: {}, roundsBound: 1, updatesAccepted: 0, examples: 0, bytesIn: 0, failures: {}, evaluationsReported: 0, firstSeen: Date.UTC(2026, 11, 3, 7), lastSeen: Date.UTC(2026, 11, 3, 7, 1) },
    ];
    const answers = { "GET /v1/jobs/job_abcdefgh/devices": () => json(200, { devices }) };
    const run = await propius(["jobs", "devices", "job_abcdefgh", "--limit", "2"], answers, withKey);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.requests.map((r) => r.path)).toEqual(["/v1/jobs/job_abcdefgh/devices?limit=2"]);
    expect(run.stdout).toBe(
      [
        "device            attributes              rounds  updates  examples  bytes-in  failures         evals  last-seen",
        "0123456789abcdef  platform=node ram_gb=8       3        2       120      4096  out_of_memory 1      1  2026-12-03 07:05:00Z",
        "fedcba9876543210  -                            1        0         0         0  -                    0  2026-12-03 07:01:00Z",
        "",
      ].join("\n"),
    );
    const asJson = await propius(["jobs", "devices", "job_abcdefgh", "--json"], answers, withKey);
    expect(asJson.requests.map((r) => r.path)).toEqual(["/v1/jobs/job_abcdefgh/devices"]);
    expect(JSON.parse(asJson.stdout)).toEqual({ devices });
    expect((await propius(["jobs", "devices", "job_abcdefgh"], { "GET /v1/jobs/job_abcdefgh/devices": () => json(200, { devices: [] }) }, withKey)).stdout).toBe("no device has taken part in this job yet\n");
    for (const limit of ["0", "1001", "2.5"]) expect(await propius(["jobs", "devices", "job_abcdefgh", "--limit", limit], answers, withKey)).toMatchObject({ code: 2, requests: [] });
  });

  it("prints the answer as JSON with --json", async () => {
    const run = await propius(["jobs", "show", "job_abcdefgh", "--json"], { "GET /v1/jobs/job_abcdefgh": () => json(200, status()) }, withKey);
    expect(JSON.parse(run.stdout)).toEqual(status());
  });

  it("shows an API error as its code and message with exit code 1, and as its body with --json", async () => {
    const missing = { "GET /v1/jobs/job_zzzzzzzz": () => json(404, { error: { code: "job_not_found", message: "no such job" } }) };
    expect(await propius(["jobs", "show", "job_zzzzzzzz"], missing, withKey)).toMatchObject({ code: 1, stdout: "", stderr: "propius: job_not_found: no such job\n" });
    const run = await propius(["jobs", "show", "job_zzzzzzzz", "--json"], missing, withKey);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stderr)).toEqual({ error: { code: "job_not_found", message: "no such job" }, status: 404 });
  });

  it("lists each field a validation error names", async () => {
    const issues = [{ path: "plan.rounds", message: "too small" }, { path: "plan.learningrate", message: "did you mean plan.learningRate?" }];
    await writeFile(join(dir, "spec.json"), JSON.stringify(SPEC));
    const again = await propius(["jobs", "create", join(dir, "spec.json")], { "POST /v1/jobs": () => json(400, { error: { code: "validation_failed", message: "2 problems", details: { issues } } }) }, withKey);
    expect(again).toMatchObject({ code: 1, stderr: "propius: validation_failed: 2 problems\n  plan.rounds: too small\n  plan.learningrate: did you mean plan.learningRate?\n" });
  });

  it("says which spec it cannot read, without asking the control plane", async () => {
    const run = await propius(["jobs", "create", join(dir, "missing.json")], {}, withKey);
    expect(run).toMatchObject({ code: 1, requests: [] });
    expect(run.stderr).toMatch(/^propius: cannot read the spec .*missing\.json: ENOENT/);
  });

  it("creates a job and seeds it with raw float32 weights, sent as a weights message", async () => {
    await writeFile(join(dir, "spec.json"), JSON.stringify(SPEC));
    await writeFile(join(dir, "w.bin"), Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
    const answers = {
      "POST /v1/jobs": () => json(201, status({ state: "pending_model", modelHash: null, modelVersion: 0, rounds: [] })),
      "PUT /v1/jobs/job_abcdefgh/model": () => json(200, status({ rounds: [] })),
    };
    const run = await propius(["jobs", "create", join(dir, "spec.json"), "--weights", join(dir, "w.bin")], answers, withKey);
    expect(run).toMatchObject({ code: 0, stdout: `job_abcdefgh (tiny): running, round 1 of 2, model v1 ${"f".repeat(12)}\n` });
    expect(JSON.parse(new TextDecoder().decode(run.requests[0].body))).toEqual(SPEC);
    expect(run.requests[1].contentType).toBe(WEIGHTS_MEDIA_TYPE);
    expect([...decodeWeights(run.requests[1].body).values]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("creates a job without weights, says how to seed it, and seeds it against the job's own spec", async () => {
    await writeFile(join(dir, "spec.json"), JSON.stringify(SPEC));
    const pending = status({ state: "pending_model", modelHash: null, modelVersion: 0, rounds: [] });
    const created = await propius(["jobs", "create", join(dir, "spec.json")], { "POST /v1/jobs": () => json(201, pending) }, withKey);
    expect(created.stdout).toBe("job_abcdefgh (tiny): pending_model, round 1 of 2, no model yet\n`propius jobs seed job_abcdefgh --weights <file>` opens round 1\n");
    await writeFile(join(dir, "w.bin"), Buffer.from(new Float32Array([6, 5, 4, 3, 2, 1]).buffer));
    const answers = { "GET /v1/jobs/job_abcdefgh": () => json(200, pending), "PUT /v1/jobs/job_abcdefgh/model": () => json(200, status({ rounds: [] })) };
    const seeded = await propius(["jobs", "seed", "job_abcdefgh", "--weights", join(dir, "w.bin")], answers, withKey);
    expect(seeded).toMatchObject({ code: 0, stdout: `job_abcdefgh (tiny): running, round 1 of 2, model v1 ${"f".repeat(12)}\n` });
    expect([...decodeWeights(seeded.requests[1].body).values]).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await propius(["jobs", "seed", "job_abcdefgh"], answers, withKey)).toMatchObject({ code: 2, requests: [] });
  });

  it("refuses weights of the wrong size before creating anything", async () => {
    await writeFile(join(dir, "spec.json"), JSON.stringify(SPEC));
    await writeFile(join(dir, "w.bin"), new Uint8Array(20));
    const run = await propius(["jobs", "create", join(dir, "spec.json"), "--weights", join(dir, "w.bin")], {}, withKey);
    expect(run).toMatchObject({ code: 1, requests: [] });
    expect(run.stderr).toContain("w.bin holds 20 bytes, but the model's weightSpecs take 24 (6 float32 values");
  });

  it("creates a job from a tfjs model folder: its topology, weightSpecs and weights", async () => {
    const { model, ...noModel } = SPEC;
    await writeFile(join(dir, "spec.json"), JSON.stringify(noModel));
    await mkdir(join(dir, "model"));
    await writeFile(join(dir, "model", "model.json"), JSON.stringify({ modelTopology: model.topology, weightsManifest: [{ paths: ["group1-shard1of2.bin", "group1-shard2of2.bin"], weights: model.weightSpecs }] }));
    await writeFile(join(dir, "model", "group1-shard1of2.bin"), Buffer.from(new Float32Array([1, 2, 3, 4]).buffer));
    await writeFile(join(dir, "model", "group1-shard2of2.bin"), Buffer.from(new Float32Array([5, 6]).buffer));
    const answers = { "POST /v1/jobs": () => json(201, status({ state: "pending_model" })), "PUT /v1/jobs/job_abcdefgh/model": () => json(200, status()) };
    const run = await propius(["jobs", "create", join(dir, "spec.json"), "--model", join(dir, "model")], answers, withKey);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(new TextDecoder().decode(run.requests[0].body))).toEqual(SPEC);
    expect([...decodeWeights(run.requests[1].body).values]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("changes the demand with PATCH, and refuses a demand that is not a whole number", async () => {
    const answers = { "PATCH /v1/jobs/job_abcdefgh": (r: Request) => json(200, status({ spec: { ...status().spec, plan: { ...status().spec.plan, ...JSON.parse(new TextDecoder().decode(r.body)) } } })) };
    const run = await propius(["jobs", "demand", "job_abcdefgh", "3"], answers, withKey);
    expect(run.stdout).toContain("demand 3 devices per round from the next round");
    expect(await propius(["jobs", "demand", "job_abcdefgh", "2.5"], answers, withKey)).toMatchObject({ code: 2, requests: [] });
  });

  it("downloads the model as model.json and weights.bin of one version", async () => {
    const hash = "c".repeat(64);
    const answers = {
      "GET /v1/jobs/job_abcdefgh/model/model.json": () => json(200, { format: "layers-model", generatedBy: "propius-edge", modelTopology: SPEC.model.topology, weightsManifest: [{ paths: [`weights.bin?hash=${hash}`], weights: SPEC.model.weightSpecs }], propius: { version: 2, hash } }),
      "GET /v1/jobs/job_abcdefgh/model/weights.bin": () => new Response(Buffer.from(new Float32Array([6, 5, 4, 3, 2, 1]).buffer)),
    };
    const run = await propius(["jobs", "download", "job_abcdefgh", join(dir, "out")], answers, withKey);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`job_abcdefgh: model v2 ${"c".repeat(12)} (6 parameters) written to ${join(dir, "out", "model.json")} and ${join(dir, "out", "weights.bin")}\n`);
    const modelJson = JSON.parse(await readFile(join(dir, "out", "model.json"), "utf8"));
    expect(modelJson.weightsManifest).toEqual([{ paths: ["weights.bin"], weights: SPEC.model.weightSpecs }]);
    expect([...new Float32Array((await readFile(join(dir, "out", "weights.bin"))).buffer.slice(0))]).toEqual([6, 5, 4, 3, 2, 1]);
  });

  it("creates a tenant with the admin key from the environment and prints the key last", async () => {
    const answers = { "POST /v1/tenants": (r: Request) => json(201, { tenant: "acme", created: true, apiKey: `pk_acme_for_${r.authorization}` }) };
    const run = await propius(["tenants", "create", "acme"], answers, { PROPIUS_ADMIN_KEY: "admin" });
    expect(run).toMatchObject({ code: 0, stdout: "tenant acme created\npk_acme_for_Bearer admin\n" });
    expect(await propius(["tenants", "create", "acme"], answers)).toMatchObject({ code: 1, stderr: "propius: tenants create needs the admin key: --admin-key or PROPIUS_ADMIN_KEY\n" });
  });
});
