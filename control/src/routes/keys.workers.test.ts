import { describe, expect, it } from "vitest";
import type { ApiKeyInfo, NewApiKey } from "@propius/shared";
import { api, createJob, createTenant, expectError, expectJson } from "../../test/fixtures.js";
import { hashKey } from "../auth/tokens.js";

const keysOf = async (apiKey: string) => (await expectJson<{ keys: ApiKeyInfo[] }>(api("/v1/keys", { token: apiKey }))).keys;

describe("a tenant's API keys", () => {
  it("lists keys by id, never the raw key, and shows a new key once", async () => {
    const owner = await createTenant();
    const made = await expectJson<NewApiKey>(api("/v1/keys", { method: "POST", token: owner.apiKey }), 201);
    expect(made.apiKey).toMatch(new RegExp(`^pk_${owner.tenant}_`));
    expect(made.key.id).toBe((await hashKey(made.apiKey)).slice(0, 12));
    const listed = await keysOf(made.apiKey);
    expect(listed.map((k) => k.id)).toEqual([(await hashKey(owner.apiKey)).slice(0, 12), made.key.id]);
    expect(listed.every((k) => k.revokedAt === null)).toBe(true);
    const text = JSON.stringify(listed);
    expect(text).not.toContain(owner.apiKey.slice(-24));
    expect(text).not.toContain(made.apiKey.slice(-24));
    // Another tenant sees only its own.
    const other = await createTenant();
    expect((await keysOf(other.apiKey)).map((k) => k.id)).not.toContain(made.key.id);
  });

  it("refuses a revoked key at once with key_revoked, on every owner route, while the other keys work", async () => {
    const owner = await createTenant();
    const job = await createJob(owner.apiKey);
    const second = await expectJson<NewApiKey>(api("/v1/keys", { method: "POST", token: owner.apiKey }), 201);
    const [first] = await keysOf(owner.apiKey);
    const revoked = await expectJson<ApiKeyInfo>(api(`/v1/keys/${first.id}`, { method: "DELETE", token: second.apiKey }));
    expect(revoked).toMatchObject({ id: first.id, revokedAt: expect.any(Number) });
    await expectError(api("/v1/jobs", { token: owner.apiKey }), 401, "key_revoked");
    await expectError(api(`/v1/jobs/${job.id}`, { token: owner.apiKey }), 401, "key_revoked");
    await expectError(api("/v1/keys", { token: owner.apiKey }), 401, "key_revoked");
    await expectError(api("/metrics", { token: owner.apiKey }), 401, "key_revoked");
    expect(await expectJson(api(`/v1/jobs/${job.id}`, { token: second.apiKey }))).toMatchObject({ id: job.id });
    // Revoking again answers as the first time; the list shows when.
    expect(await expectJson(api(`/v1/keys/${first.id}`, { method: "DELETE", token: second.apiKey }))).toEqual(revoked);
    expect(await keysOf(second.apiKey)).toEqual([revoked, second.key]);
  });

  it("keeps the last working key: revoking it is last_key, rotating it replaces it in one step", async () => {
    const owner = await createTenant();
    const [only] = await keysOf(owner.apiKey);
    await expectError(api(`/v1/keys/${only.id}`, { method: "DELETE", token: owner.apiKey }), 409, "last_key");
    expect(await expectJson(api("/v1/jobs", { token: owner.apiKey }))).toEqual({ jobs: [] });

    const rotated = await expectJson<NewApiKey>(api(`/v1/keys/${only.id}/rotate`, { method: "POST", token: owner.apiKey }), 201);
    expect(rotated.revoked).toMatchObject({ id: only.id, revokedAt: expect.any(Number) });
    expect(rotated.apiKey).not.toBe(owner.apiKey);
    await expectError(api("/v1/jobs", { token: owner.apiKey }), 401, "key_revoked");
    expect(await expectJson(api("/v1/jobs", { token: rotated.apiKey }))).toEqual({ jobs: [] });
    expect((await keysOf(rotated.apiKey)).map((k) => [k.id, k.revokedAt === null])).toEqual([[only.id, false], [rotated.key.id, true]]);
    // A revoked key cannot be rotated: its holder has lost it.
    await expectError(api(`/v1/keys/${only.id}/rotate`, { method: "POST", token: rotated.apiKey }), 401, "key_revoked");
  });

  it("does not let one tenant revoke or rotate another's key", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await expectJson(api("/v1/keys", { method: "POST", token: b.apiKey }), 201);
    const [bKey] = await keysOf(b.apiKey);
    await expectError(api(`/v1/keys/${bKey.id}`, { method: "DELETE", token: a.apiKey }), 404, "key_not_found");
    await expectError(api(`/v1/keys/${bKey.id}/rotate`, { method: "POST", token: a.apiKey }), 404, "key_not_found");
    expect(await expectJson(api("/v1/jobs", { token: b.apiKey }))).toEqual({ jobs: [] });
  });
});
