import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, PUSH_PROTOCOL, TICKET_HEADER, type PushMessage, type Task } from "@propius/shared";
import { api, cancelRunningJobs, createJob, createTenant, delta, expectError, expectJson, registerClient, runningJob, seedModel, taskFor, uploadDelta, waitForRound, frameQueue } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

/** A device's push connection, with the frames it has been sent in order. */
async function connect(token: string) {
  const response = await SELF.fetch("http://control/v1/connect", { headers: { upgrade: "websocket", "sec-websocket-protocol": `${PUSH_PROTOCOL}, bearer.${token}` } });
  expect(response.status).toBe(101);
  expect(response.headers.get("sec-websocket-protocol")).toBe(PUSH_PROTOCOL);
  const ws = response.webSocket!;
  ws.accept();
  const nextFrame = frameQueue(ws);
  const next = async () => JSON.parse(await nextFrame()) as PushMessage;
  const checkIn = (id: number) => ws.send(JSON.stringify({ type: "checkin", id, attributes: { platform: "test" } }));
  return { ws, next, nextFrame, checkIn };
}

const taskOf = (message: PushMessage): Task => {
  if (message.type !== "reply" || message.reply.status !== "task") throw new Error(`expected a task, got ${JSON.stringify(message)}`);
  return message.reply.task;
};

describe("push connections", () => {
  it("refuses a request that is not a WebSocket upgrade, or without the subprotocol or a valid token", async () => {
    const { token } = await registerClient();
    await expectError(api("/v1/connect", { token }), 426, "upgrade_required");
    await expectError(SELF.fetch("http://control/v1/connect", { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }), 400, "bad_request");
    await expectError(SELF.fetch("http://control/v1/connect", { headers: { upgrade: "websocket", "sec-websocket-protocol": PUSH_PROTOCOL } }), 401, "unauthorized");
    await expectError(SELF.fetch("http://control/v1/connect", { headers: { upgrade: "websocket", "sec-websocket-protocol": `${PUSH_PROTOCOL}, bearer.${token}x` } }), 401, "unauthorized");
  });

  it("refuses generated handshakes with a coded 4xx error, never a crash", async () => {
    const { token } = await registerClient();
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const pick = <T,>(items: readonly T[]) => items[Math.floor(random() * items.length)];
    const protocols = [PUSH_PROTOCOL, `bearer.${token}`, `bearer.${token.slice(0, -1)}A`, "bearer.", "bearer.ct_x.y", "propius.v2", "", ",", " ", "bearer.\u00e9"];
    for (let i = 0; i < 60; i++) {
      const headers: Record<string, string> = { "sec-websocket-protocol": Array.from({ length: Math.floor(random() * 4) }, () => pick(protocols)).join(", ") };
      if (random() < 0.8) headers.upgrade = pick(["websocket", "WebSocket", "h2c", ""]);
      if (random() < 0.3) headers.authorization = pick([`Bearer ${token}x`, "Bearer", "Basic abc", `bearer ${token.slice(3)}`]);
      // Skip the handshakes that are right by chance: a WebSocket upgrade asking for the protocol, with the valid token as its subprotocol and none in Authorization.
      const offered = headers["sec-websocket-protocol"].split(",").map((p) => p.trim());
      const headerToken = /^Bearer\s+\S+$/i.test(headers.authorization ?? "");
      if (headers.upgrade?.toLowerCase() === "websocket" && offered.includes(PUSH_PROTOCOL) && offered.includes(`bearer.${token}`) && !headerToken) continue;
      const response = await SELF.fetch("http://control/v1/connect", { headers });
      expect([400, 401, 426], JSON.stringify(headers)).toContain(response.status);
      expect((await response.json()) as object, JSON.stringify(headers)).toHaveProperty("error.code");
    }
  });

  it("answers check-ins on the socket, and pushes a task the moment a job's first round opens", async () => {
    const { token } = await registerClient();
    const device = await connect(token);
    device.checkIn(1);
    expect(await device.next()).toMatchObject({ type: "reply", id: 1, reply: { status: "wait", reason: "no_jobs" } });
    const { apiKey } = await createTenant();
    const { id } = await createJob(apiKey);
    await seedModel(apiKey, id);
    const task = taskOf(await device.next());
    expect(task).toMatchObject({ jobId: id, round: 1 });
    // The pushed task is the device's binding: checking in again gives the same ticket.
    device.checkIn(2);
    expect(taskOf(await device.next()).ticket).toBe(task.ticket);
    device.ws.close();
  });

  it("pushes a slot that a failure report frees to a device waiting on a full round", async () => {
    const { job } = await runningJob({ clientsPerRound: 1, overCommit: 1 });
    const [holder, waiter] = [await registerClient(), await registerClient()];
    const first = await connect(holder.token);
    first.checkIn(1);
    const task = taskOf(await first.next());
    const second = await connect(waiter.token);
    second.checkIn(1);
    expect(await second.next()).toMatchObject({ id: 1, reply: { status: "wait", reason: "round_full" } });
    const failure = { code: "training_error", message: "out of memory" };
    await expectJson(api(task.failureUrl, { token: holder.token, json: failure, headers: { [TICKET_HEADER]: task.ticket } }), 202);
    expect(taskOf(await second.next())).toMatchObject({ jobId: job.id, round: 1 });
    first.ws.close();
    second.ws.close();
  });

  it("pushes the next round's task to a device that checked in right after its upload, when its job opens that round", async () => {
    const { apiKey, job } = await runningJob({ clientsPerRound: 2, overCommit: 1 });
    const [a, b] = [await registerClient(), await registerClient()];
    const first = await connect(a.token);
    first.checkIn(1);
    const taskA = taskOf(await first.next());
    const taskB = await taskFor(b.token, job.id);
    expect((await uploadDelta(a.token, taskA, delta([0.1, 0.1, 0.1, 0.1]))).status).toBe(202);
    first.checkIn(2);
    expect(await first.next()).toMatchObject({ type: "reply", id: 2, reply: { status: "wait", reason: "already_reported" } });
    expect((await uploadDelta(b.token, taskB, delta([0.3, 0.3, 0.3, 0.3]))).status).toBe(202);
    await waitForRound(apiKey, job.id, 1, "closed");
    expect(taskOf(await first.next())).toMatchObject({ jobId: job.id, round: 2 });
    first.ws.close();
  });

  it("answers keep-alive pings, and bad frames with a coded error, keeping the connection", async () => {
    const { token } = await registerClient();
    const device = await connect(token);
    device.ws.send("ping");
    expect(await device.nextFrame()).toBe("pong");
    device.ws.send("{not json");
    expect(await device.next()).toMatchObject({ type: "error", error: { code: "invalid_json" } });
    device.ws.send(`{"type":"checkin","id":4,"attributes":{},"x":${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}}`);
    expect(await device.next()).toMatchObject({ type: "error", error: { code: "invalid_json", message: `the frame nests deeper than ${MAX_JSON_DEPTH} levels` } });
    device.ws.send(JSON.stringify({ type: "checkin", id: 5, attributes: [] }));
    expect(await device.next()).toMatchObject({ type: "error", id: 5, error: { code: "validation_failed" } });
    device.checkIn(6);
    expect(await device.next()).toMatchObject({ type: "reply", id: 6, reply: { status: "wait" } });
    device.ws.close();
  });
});
