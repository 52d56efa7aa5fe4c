import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { EVENTS_PROTOCOL, TICKET_HEADER, jobEventSchema, type EventsToken, type JobEvent } from "@propius/shared";
import { api, cancelRunningJobs, createJob, createTenant, delta, expectError, expectJson, registerClient, runningJob, taskFor, testEnv, uploadDelta, waitForRound, frameQueue } from "../../test/fixtures.js";
import { signSubscription } from "../auth/subscriptions.js";

afterEach(cancelRunningJobs);

const tokenFor = (apiKey: string, jobId: string) => expectJson<EventsToken>(api(`/v1/jobs/${jobId}/events/token`, { method: "POST", token: apiKey }), 201);
const upgrade = (jobId: string, protocols: string, query = "") =>
  SELF.fetch(`http://control/v1/jobs/${jobId}/events${query}`, { headers: { upgrade: "websocket", "sec-websocket-protocol": protocols } });

/** An owner's event connection, with the events it has been sent in order (each checked against the schema). */
async function subscribe(apiKey: string, jobId: string, since?: number) {
  const { token } = await tokenFor(apiKey, jobId);
  const response = await upgrade(jobId, `${EVENTS_PROTOCOL}, bearer.${token}`, since === undefined ? "" : `?since=${since}`);
  expect(response.status).toBe(101);
  expect(response.headers.get("sec-websocket-protocol")).toBe(EVENTS_PROTOCOL);
  const ws = response.webSocket!;
  ws.accept();
  const nextFrame = frameQueue(ws);
  const next = async () => jobEventSchema.parse(JSON.parse(await nextFrame())) as JobEvent;
  /** Events until one of `type` (included). */
  const until = async (type: JobEvent["type"]) => {
    const seen: JobEvent[] = [];
    for (let e = await next(); ; e = await next()) {
      seen.push(e);
      if (e.type === type) return seen;
    }
  };
  return { ws, next, nextFrame, until };
}

describe("job event subscriptions", () => {
  it("issue a short-lived token only to the job's owner, and refuse missing jobs with a 404", async () => {
    const { apiKey, job } = await runningJob();
    const other = await createTenant();
    const issued = await tokenFor(apiKey, job.id);
    expect(issued.protocol).toBe(EVENTS_PROTOCOL);
    expect(issued.expiresAt - Date.now()).toBeGreaterThan(50_000);
    expect(issued.expiresAt - Date.now()).toBeLessThanOrEqual(60_000);
    expect(issued.token).not.toContain(apiKey);
    await expectError(api(`/v1/jobs/${job.id}/events/token`, { method: "POST" }), 401, "unauthorized");
    await expectError(api(`/v1/jobs/${job.id}/events/token`, { method: "POST", token: other.apiKey }), 404, "job_not_found");
    await expectError(api(`/v1/jobs/job_doesnotexist00/events/token`, { method: "POST", token: apiKey }), 404, "job_not_found");
  });

  it("refuse bad, forged, expired or another job's tokens with coded 4xx errors", async () => {
    const { apiKey, job } = await runningJob();
    const { id: second } = await createJob(apiKey);
    const { token } = await tokenFor(apiKey, job.id);
    await expectError(api(`/v1/jobs/${job.id}/events`), 426, "upgrade_required");
    await expectError(upgrade(job.id, `bearer.${token}`), 400, "bad_request");
    await expectError(upgrade(job.id, EVENTS_PROTOCOL), 401, "unauthorized");
    await expectError(upgrade(job.id, `${EVENTS_PROTOCOL}, bearer.${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`), 401, "subscription_invalid");
    await expectError(upgrade(job.id, `${EVENTS_PROTOCOL}, bearer.${apiKey}`), 401, "subscription_invalid");
    await expectError(upgrade(second, `${EVENTS_PROTOCOL}, bearer.${token}`), 401, "subscription_invalid");
    const expired = signSubscription(testEnv.PROPIUS_TOKEN_SECRET!, { jobId: job.id, tenant: job.tenant, expiresAt: Date.now() - 1 });
    await expectError(upgrade(job.id, `${EVENTS_PROTOCOL}, bearer.${expired}`), 401, "subscription_expired");
    // A token signed with another secret is forged, whatever it claims.
    const forged = signSubscription("another-secret", { jobId: job.id, tenant: job.tenant, expiresAt: Date.now() + 60_000 });
    await expectError(upgrade(job.id, `${EVENTS_PROTOCOL}, bearer.${forged}`), 401, "subscription_invalid");
    // A valid signature for a job that does not exist (or another tenant's: the job checks the tenant it names).
    const missing = signSubscription(testEnv.PROPIUS_TOKEN_SECRET!, { jobId: "job_doesnotexist00", tenant: job.tenant, expiresAt: Date.now() + 60_000 });
    await expectError(upgrade("job_doesnotexist00", `${EVENTS_PROTOCOL}, bearer.${missing}`), 404, "job_not_found");
    const otherTenant = signSubscription(testEnv.PROPIUS_TOKEN_SECRET!, { jobId: job.id, tenant: "someone-else", expiresAt: Date.now() + 60_000 });
    await expectError(upgrade(job.id, `${EVENTS_PROTOCOL}, bearer.${otherTenant}`), 404, "job_not_found");
  });

  it("send the job's state first, then its round's events as they happen, in sequence", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 2, rounds: 2 });
    const sub = await subscribe(apiKey, job.id);
    const snapshot = await sub.next();
    expect(snapshot).toMatchObject({ type: "snapshot", jobId: job.id, status: { id: job.id, state: "running", currentRound: 1 } });

    const [a, b] = [await registerClient(), await registerClient()];
    const taskA = await taskFor(a.token, job.id);
    const taskB = await taskFor(b.token, job.id);
    expect(await sub.next()).toMatchObject({ type: "device_bound", round: 1, bound: 1, demand: 2 });
    expect(await sub.next()).toMatchObject({ type: "device_bound", round: 1, bound: 2 });
    expect((await uploadDelta(a.token, taskA, delta([1, 1, 1, 1]))).status).toBe(202);
    expect(await sub.next()).toMatchObject({ type: "update_accepted", round: 1, reported: 1, demand: 2 });
    // A retried upload of a counted update is refused with its code.
    expect((await uploadDelta(a.token, taskA, delta([1, 1, 1, 1]))).status).toBe(409);
    expect(await sub.next()).toMatchObject({ type: "update_refused", round: 1, code: "ticket_used" });
    expect((await uploadDelta(b.token, taskB, delta([3, 3, 3, 3]))).status).toBe(202);
    expect(await sub.next()).toMatchObject({ type: "update_accepted", round: 1, reported: 2 });
    await waitForRound(apiKey, job.id, 1, "closed");
    const closing = await sub.until("round_opened");
    const closed = closing.find((e) => e.type === "round_closed");
    expect(closed).toMatchObject({ type: "round_closed", round: 1, record: { status: "closed", reported: 2, bytesIn: expect.any(Number) } });
    expect(closed!.type === "round_closed" && closed!.record.closedAt).toBeLessThanOrEqual(closed!.at);
    expect(closing.at(-1)).toMatchObject({ type: "round_opened", round: 2, attempt: 0, demand: 2 });
    const seqs = [snapshot, ...closing].map((e) => e.seq);
    expect(seqs.slice(1).every((s, i) => s > seqs[i])).toBe(true);

    await expectJson(api(`/v1/jobs/${job.id}/rounds/1/metrics`, { token: apiKey, json: { testAccuracy: 0.5, testLoss: 1.25 } }));
    expect(await sub.next()).toMatchObject({ type: "evaluation_recorded", round: 1, by: "owner", accuracy: 0.5, loss: 1.25 });
    await expectJson(api(`/v1/jobs/${job.id}/cancel`, { method: "POST", token: apiKey }));
    expect(await sub.next()).toMatchObject({ type: "state_changed", from: "running", to: "cancelled" });
  });

  it("publish a device's failure by code, and answer keep-alive pings", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 2 });
    const sub = await subscribe(apiKey, job.id);
    await sub.next();
    const a = await registerClient();
    const task = await taskFor(a.token, job.id);
    await sub.next();
    const failure = await api(`/v1/jobs/${job.id}/rounds/1/failures`, { token: a.token, headers: { [TICKET_HEADER]: task.ticket }, json: { code: "out_of_memory", message: "no room" } });
    expect(failure.status, await failure.text()).toBeLessThan(300);
    expect(await sub.next()).toMatchObject({ type: "device_failed", round: 1, code: "out_of_memory", evaluation: false });
    sub.ws.send("ping");
    expect(await sub.nextFrame()).toBe("pong");
  });

  it("replay the events a reconnecting subscriber missed, or send the state when it cannot", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 3 });
    const watcher = await subscribe(apiKey, job.id);
    const first = await subscribe(apiKey, job.id);
    const snapshot = await first.next();
    await watcher.next();
    first.ws.close(1000, "gone");
    const a = await registerClient();
    await taskFor(a.token, job.id);
    expect(await watcher.next()).toMatchObject({ type: "device_bound", bound: 1 });
    // The watcher stayed, so every change was recorded: the returning subscriber is replayed what it missed.
    const back = await subscribe(apiKey, job.id, snapshot.seq);
    expect(await back.next()).toMatchObject({ type: "device_bound", bound: 1, seq: snapshot.seq + 1 });
    // A sequence number the job never gave out, or one from before what it holds, gets the state.
    const lost = await subscribe(apiKey, job.id, snapshot.seq + 1000);
    expect(await lost.next()).toMatchObject({ type: "snapshot", status: { rounds: [{ bound: 1 }] } });
  });
});
