import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { PUSH_PROTOCOL, TICKET_HEADER, type Enrolment } from "@propius/shared";
import { ADMIN_KEY, api, cancelRunningJobs, checkIn, delta, expectError, expectJson, registerClient, runningJob, taskFor, uploadDelta } from "../../test/fixtures.js";
import { DEFAULT_DEVICE_TOKEN_TTL_SECONDS } from "../auth/tokens.js";

afterEach(cancelRunningJobs);

const renew = (token: string) => api("/v1/clients/token", { method: "POST", token });
const revoke = (clientId: string, token = ADMIN_KEY) => api(`/v1/admin/devices/${clientId}/revoke`, { method: "POST", token });
const connect = (token: string) => SELF.fetch("http://control/v1/connect", { headers: { upgrade: "websocket", "sec-websocket-protocol": `${PUSH_PROTOCOL}, bearer.${token}` } });

describe("device tokens", () => {
  it("expire a day after they are issued by default, and say when", async () => {
    const before = Date.now();
    const enrolled = await expectJson<Enrolment>(api("/v1/clients", { json: {} }), 201);
    expect(enrolled.expiresAt).toBeGreaterThanOrEqual(before + DEFAULT_DEVICE_TOKEN_TTL_SECONDS * 1000);
    expect(enrolled.expiresAt).toBeLessThanOrEqual(Date.now() + DEFAULT_DEVICE_TOKEN_TTL_SECONDS * 1000 + 1000);
  });

  it("renew for the same device, which keeps its task: the upload with the new token and the old ticket is accepted", async () => {
    const { job } = await runningJob({ clientsPerRound: 1 });
    const device = await registerClient();
    const task = await taskFor(device.token, job.id);
    const first = await expectJson<Enrolment>(renew(device.token), 201);
    // Expiries are whole seconds: a renewal a second later is a new token.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const renewed = await expectJson<Enrolment>(renew(device.token), 201);
    expect(renewed.clientId).toBe(device.clientId);
    expect(renewed.expiresAt).toBeGreaterThan(first.expiresAt);
    expect(renewed.token).not.toBe(device.token);
    expect(await expectJson(uploadDelta(renewed.token, task, delta([1, 1, 1, 1])), 202)).toMatchObject({ accepted: true, jobId: job.id });
  });

  it("once revoked by the operator, are refused with token_revoked on every device route, and cannot be renewed", async () => {
    const { job } = await runningJob({ clientsPerRound: 2 });
    const device = await registerClient();
    const task = await taskFor(device.token, job.id);
    const renewed = await expectJson<Enrolment>(renew(device.token), 201);
    const bystander = await registerClient();

    await expectError(revoke(device.clientId, device.token), 401, "unauthorized");
    const revoked = await expectJson<{ clientId: string; revoked: true; until: number }>(revoke(device.clientId));
    expect(revoked).toMatchObject({ clientId: device.clientId, revoked: true, closedConnections: 0 });
    expect(revoked.until).toBeGreaterThanOrEqual(renewed.expiresAt);

    for (const token of [device.token, renewed.token]) {
      await expectError(api("/v1/checkin", { token, json: { attributes: {} } }), 401, "token_revoked");
      await expectError(api("/v1/ping", { token, json: {} }), 401, "token_revoked");
      await expectError(renew(token), 401, "token_revoked");
      await expectError(uploadDelta(token, task, delta([1, 1, 1, 1])), 401, "token_revoked");
      await expectError(api(`/v1/jobs/${job.id}/rounds/1/failures`, { token, headers: { [TICKET_HEADER]: task.ticket }, json: { code: "training_error", message: "x" } }), 401, "token_revoked");
      await expectError(api(task.modelUrl, { token }), 401, "token_revoked");
      await expectError(connect(token), 401, "token_revoked");
    }
    // Another device is not touched.
    expect(await checkIn(bystander.token)).toMatchObject({ status: "task" });
  });

  it("once revoked, close the device's open push connection", async () => {
    const device = await registerClient();
    const response = await connect(device.token);
    expect(response.status).toBe(101);
    const ws = response.webSocket!;
    ws.accept();
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason })));
    expect(await expectJson(revoke(device.clientId))).toMatchObject({ closedConnections: 1 });
    expect(await closed).toEqual({ code: 4401, reason: "token_revoked" });
  });
});
