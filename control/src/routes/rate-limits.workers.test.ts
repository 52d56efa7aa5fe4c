import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createTenant, expectError, expectJson, registerClient, testEnv, type Call } from "../../test/fixtures.js";
import { createApp } from "../app.js";
import type { Env } from "../env.js";
import { RATE_LIMIT_DEFAULTS } from "../middleware/rate-limit/index.js";

/**
 * The rate limits, through the Worker's own app in workerd with the test's bindings, and the limits
 * set as the variables set them (the project's bindings keep the defaults).
 */
const app = createApp();
async function send(vars: Partial<Env>, path: string, call: Call & { address?: string } = {}): Promise<Response> {
  const headers = new Headers(call.headers);
  if (call.token) headers.set("authorization", `Bearer ${call.token}`);
  if (call.address) headers.set("cf-connecting-ip", call.address);
  let body = call.body;
  if (call.json !== undefined) {
    body = JSON.stringify(call.json);
    headers.set("content-type", "application/json");
  }
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`http://control${path}`, { method: call.method ?? (body === undefined ? "GET" : "POST"), headers, body }), { ...testEnv, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

async function expectLimited(pending: Promise<Response>, retryAfter: number, limit: string) {
  const response = await pending;
  expect(response.headers.get("retry-after")).toBe(String(retryAfter));
  expect(await response.json()).toMatchObject({ error: { code: "rate_limited", details: { limit, retryAfterSeconds: retryAfter } } });
  expect(response.status).toBe(429);
}

describe("rate limits", () => {
  it("limit each device: the request past its limit is 429 rate_limited with Retry-After, and another device goes on", async () => {
    const vars = { RATE_LIMIT_DEVICE_PER_MINUTE: "3" };
    const [a, b] = [await registerClient(), await registerClient()];
    for (let i = 0; i < 3; i++) await expectJson(send(vars, "/v1/ping", { token: a.token, json: {} }));
    // 3 a minute: one request back every 20 s.
    await expectLimited(send(vars, "/v1/ping", { token: a.token, json: {} }), 20, "device");
    await expectLimited(send(vars, "/v1/clients/token", { method: "POST", token: a.token }), 20, "device");
    await expectJson(send(vars, "/v1/ping", { token: b.token, json: {} }));
  });

  it("limit each API key, not the tenant: a second key of the tenant goes on", async () => {
    const vars = { RATE_LIMIT_KEY_PER_MINUTE: "2" };
    const owner = await createTenant();
    const second = await expectJson<{ apiKey: string }>(api("/v1/keys", { method: "POST", token: owner.apiKey }), 201);
    await expectJson(send(vars, "/v1/jobs", { token: owner.apiKey }));
    await expectJson(send(vars, "/v1/jobs", { token: owner.apiKey }));
    await expectLimited(send(vars, "/v1/jobs", { token: owner.apiKey }), 30, "key");
    await expectJson(send(vars, "/v1/jobs", { token: second.apiKey }));
  });

  it("limit each address's enrolments and refused credentials, and leave other addresses alone", async () => {
    const vars = { RATE_LIMIT_ADDRESS_PER_MINUTE: "2" };
    const address = "203.0.113.7";
    await expectJson(send(vars, "/v1/clients", { json: {}, address }), 201);
    await expectJson(send(vars, "/v1/clients", { json: {}, address }), 201);
    await expectLimited(send(vars, "/v1/clients", { json: {}, address }), 30, "address");
    await expectJson(send(vars, "/v1/clients", { json: {}, address: "203.0.113.8" }), 201);

    // Guessing keys or tokens from one address: refused, then limited.
    const guesser = "198.51.100.9";
    await expectError(send(vars, "/v1/jobs", { token: "pk_nobody_guess1", address: guesser }), 401, "unauthorized");
    await expectError(send(vars, "/v1/checkin", { token: "ct_guess.sig", json: {}, address: guesser }), 401, "unauthorized");
    await expectLimited(send(vars, "/v1/tenants", { token: "not-the-admin-key", json: { name: "x" }, address: guesser }), 30, "address");
    // A device with a valid token from that address is limited as a device, not by the address.
    const device = await registerClient();
    await expectJson(send(vars, "/v1/ping", { token: device.token, json: {}, address: guesser }));
  });

  it("turn off with 0, and default to the documented figures", async () => {
    const vars = { RATE_LIMIT_DEVICE_PER_MINUTE: "0" };
    const device = await registerClient();
    for (let i = 0; i < 12; i++) await expectJson(send(vars, "/v1/ping", { token: device.token, json: {} }));
    expect(RATE_LIMIT_DEFAULTS).toEqual({ key: 1200, device: 600, address: 120 });
  });
});
