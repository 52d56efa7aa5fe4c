import { SELF, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { decodeWeights, fromBase64Url, secureContext, toBase64Url, TICKET_HEADER, type JobStatus, type SecurePhase, type Task } from "@propius/shared";
import { generateKeyPair, quantizationStep, SecAggDevice, secureRound, type SecureTransport } from "@propius/shared/secagg";
import { SqliteAggregatorStore } from "../aggregation/sqlite-aggregator-store.js";
import { api, cancelRunningJobs, createTenant, expectError, expectJson, jobSpec, jobStatus, registerClient, seedModel, SEED, taskFor, testEnv, waitForRound } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** A job of the tiny model whose rounds aggregate securely, seeded, with `clientsPerRound` devices bound at once. */
async function secureJob(clientsPerRound: number, secure: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const { apiKey } = await createTenant();
  const spec = { ...jobSpec({ rounds: 1, clientsPerRound, overCommit: 1 }), secureAggregation: secure, ...extra };
  const { id } = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: spec }), 201);
  await seedModel(apiKey, id);
  return { apiKey, jobId: id };
}

/** A device's way to its shard's group in the Worker under test: the routes, with its token and ticket. */
function transport(token: string, task: Task): SecureTransport {
  const headers = { [TICKET_HEADER]: task.ticket };
  const answer = async (response: Response) => {
    const body = await response.text();
    if (!response.ok) throw new Error(`${response.status} ${body}`);
    return JSON.parse(body);
  };
  return {
    send: async (step, body) => answer(await api(`${task.secure!.url}/${step}`, { token, json: body, headers })),
    masked: async (values) => answer(await api(`${task.secure!.url}/masked`, { token, type: "application/octet-stream", body: new Uint8Array(values.buffer), headers })),
    outcome: async (phase: SecurePhase) => {
      const response = await api(`${task.secure!.url}/${phase}`, { token, headers });
      const body = await answer(response);
      return response.status === 202 ? null : body;
    },
  };
}

/** The device's part in the round: the production sequence (secureRound) over the routes. */
async function contribute(d: { credentials: { token: string }; task: Task }, i: number) {
  const { receipt, ...cost } = await secureRound(transport(d.credentials.token, d.task), { ...d.task, secure: d.task.secure! }, { delta: deltas[i], examples: examples[i] });
  return { ...receipt, ...cost };
}

async function devices(n: number, jobId: string) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const credentials = await registerClient();
      return { credentials, task: await taskFor(credentials.token, jobId) };
    }),
  );
}

const deltas = [Float32Array.of(0.5, -0.25, 0.125, 0), Float32Array.of(-0.5, 0.75, 0, 0.25), Float32Array.of(0.25, 0.25, -0.5, 0.5)];
const examples = [10, 30, 60];

describe("secure aggregation of a round", () => {
  it("gives the job the example-weighted mean of the deltas, though its shard only ever held their masked sum", async () => {
    const { apiKey, jobId } = await secureJob(3);
    const group = await devices(3, jobId);
    expect(group[0].task.secure).toMatchObject({ url: `/v1/jobs/${jobId}/rounds/1/secure`, range: 1, weighting: "examples", maxExamples: 10_000 });
    const receipts = await Promise.all(group.map(contribute));
    expect(receipts.map((r) => [r.accepted, r.group, r.dropped])).toEqual([[true, 3, 0], [true, 3, 0], [true, 3, 0]]);
    // Keys, shares and reveals as JSON, and 4 bytes for each of the 4 values and the weight.
    for (const r of receipts) expect(r.bytes).toBeGreaterThan(20);

    const status = await waitForRound(apiKey, jobId, 1, "closed");
    expect(status.rounds[0]).toMatchObject({ reported: 3, examples: 100 });
    const model = decodeWeights(new Uint8Array(await (await api(`/v1/models/${status.rounds[0].resultModel}`, { token: group[0].credentials.token })).arrayBuffer()));
    const step = quantizationStep({ range: 1, maxInputs: 3 });
    for (let j = 0; j < 4; j++) {
      const mean = deltas.reduce((sum, d, i) => sum + d[j] * examples[i], 0) / 100;
      // The weight and each weighted value are within 3 steps of their sums: far below 1e-6 here.
      expect(Math.abs(model.values[j] - (SEED[j] + mean))).toBeLessThan(1e-6 + 30_000 * step);
    }
  });

  it("survives a device that drops out after sharing its keys: the round closes on the others' sum", async () => {
    // Three reports of four close the round at its deadline.
    const { apiKey, jobId } = await secureJob(4, { phaseSeconds: 1 }, { plan: { ...jobSpec().plan, rounds: 1, clientsPerRound: 4, overCommit: 1, minReportFraction: 0.75, roundDeadlineSeconds: 5 } });
    const group = await devices(4, jobId);
    // The fourth device goes as far as its shares, then is gone.
    const dropper = group[3];
    const honest = group.slice(0, 3).map(contribute);
    const outcome = await Promise.allSettled([...honest, dropOut(transport(dropper.credentials.token, dropper.task), dropper.task)]);
    expect(outcome.slice(0, 3).map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    for (const o of outcome.slice(0, 3)) expect((o as PromiseFulfilledResult<{ dropped: number; group: number }>).value).toMatchObject({ group: 4, dropped: 1 });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, group[0].task.deadline - Date.now() + 100)));
    const status = await waitForRound(apiKey, jobId, 1, "closed");
    expect(status.rounds[0]).toMatchObject({ reported: 3, examples: 100 });
  });

  it("stores at its shard at most one sum of the group's values, never a device's masked input or delta", async () => {
    const { jobId } = await secureJob(3, {}, { plan: { ...jobSpec().plan, rounds: 2, clientsPerRound: 3, overCommit: 1 } });
    const group = await devices(3, jobId);
    await Promise.all(group.map(contribute));
    const shard = testEnv.AGGREGATORS.get(testEnv.AGGREGATORS.idFromName(`${jobId}/aggregator-0`));
    const stored = await runInDurableObject(shard, async (_object, state) => {
      const sql = state.storage.sql;
      const blobs = (table: string) => sql.exec(`SELECT COALESCE(SUM(LENGTH(data)), 0) AS n FROM ${table}`).one().n as number;
      return { sum: blobs("sum_chunks"), kept: blobs("update_chunks"), folded: sql.exec("SELECT COUNT(*) AS n FROM folded").one().n, partial: new SqliteAggregatorStore(sql, state.storage).loadPartial() };
    });
    // The sum of 4 float32 values (or none, once the job has made its model and the shard let the sum go).
    expect(stored.sum).toBeLessThanOrEqual(16);
    expect(stored.kept).toBe(0);
    expect(stored.partial).toMatchObject({ round: 1 });
  });

  it("refuses every step of a job that does not aggregate securely, and a ticket of another device", async () => {
    const { apiKey } = await createTenant();
    const { id } = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: jobSpec({ rounds: 1, clientsPerRound: 3 }) }), 201);
    await seedModel(apiKey, id);
    const [a, b] = await devices(2, id);
    expect(a.task.secure).toBeUndefined();
    const keys = { maskKey: "A".repeat(87), shareKey: "A".repeat(87) };
    await expectError(api(`/v1/jobs/${id}/rounds/1/secure/keys`, { token: a.credentials.token, json: keys, headers: { [TICKET_HEADER]: a.task.ticket } }), 409, "secure_aggregation_off");
    await expectError(api(`/v1/jobs/${id}/rounds/1/secure/keys`, { token: b.credentials.token, json: keys, headers: { [TICKET_HEADER]: a.task.ticket } }), 403, "ticket_invalid");
    await expectError(api(`/v1/jobs/${id}/rounds/1/secure/roster`, { token: a.credentials.token, headers: { [TICKET_HEADER]: a.task.ticket } }), 409, "secure_aggregation_off");
    expect((await jobStatus(apiKey, id)).rounds[0]).toMatchObject({ status: "open", reported: 0 });
  });

  it("refuses a masked input of the wrong length and a step out of turn, and the group goes on", async () => {
    const { apiKey, jobId } = await secureJob(3);
    const group = await devices(3, jobId);
    const [first] = group;
    const ticket = { [TICKET_HEADER]: first.task.ticket };
    await expectError(api(`/v1/jobs/${jobId}/rounds/1/secure/shares`, { token: first.credentials.token, json: { shares: [] }, headers: ticket }), 409, "secure_phase_closed");
    await expectError(api(`/v1/jobs/${jobId}/rounds/1/secure/masked`, { token: first.credentials.token, type: "application/octet-stream", body: new Uint8Array(8), headers: ticket }), 400, "invalid_update");
    await expectError(api(`/v1/jobs/${jobId}/rounds/1/secure/keys`, { token: first.credentials.token, json: { maskKey: "short", shareKey: "short" }, headers: ticket }), 400, "validation_failed");
    await Promise.all(group.map(contribute));
    expect((await waitForRound(apiKey, jobId, 1, "closed")).rounds[0]).toMatchObject({ reported: 3 });
  });

  it("refuses a spec that would need one update apart, or a group too small to hide one", async () => {
    const { apiKey } = await createTenant();
    const refused = [
      { ...jobSpec({ clientsPerRound: 2 }), secureAggregation: {} },
      { ...jobSpec({ clientsPerRound: 4 }), secureAggregation: {}, robustness: { estimator: { kind: "median" } } },
      { ...jobSpec({ clientsPerRound: 4 }), secureAggregation: { threshold: 0.4 } },
    ];
    for (const spec of refused) await expectError(api("/v1/jobs", { token: apiKey, json: spec }), 400, "validation_failed");
  });
});

/** A device that joins and shares its keys, then sends nothing more (as the dropout in the protocol). */
async function dropOut(client: SecureTransport, task: Task): Promise<void> {
  const [mask, sealing] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const { index } = await client.send<{ index: number }>("keys", { maskKey: toBase64Url(mask.publicKey), shareKey: toBase64Url(sealing.publicKey) });
  let roster = null;
  while (!roster) roster = await client.outcome<{ roster: { index: number; maskKey: string; shareKey: string }[]; threshold: number }>("roster");
  const device = await SecAggDevice.create(index, secureContext(task.jobId, task.round, task.attempt ?? 0), { mask, sealing });
  const sealed = await device.shareKeys(roster.roster.map((m) => ({ index: m.index, maskKey: fromBase64Url(m.maskKey), shareKey: fromBase64Url(m.shareKey) })), roster.threshold);
  await client.send("shares", { shares: [...sealed].map(([to, s]) => ({ to, sealed: toBase64Url(s) })) });
}
