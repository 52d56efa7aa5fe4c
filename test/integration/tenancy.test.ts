import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeviceClient, OwnerClient } from "@propius/edge-runtime";
import { ADMIN_KEY, TestControlPlane, runPropius } from "./helpers.js";

/**
 * Keys and limits against the real control plane under `wrangler dev`: the owner rotates the key
 * the CLI is logged in with, and enrolments from one address are limited (wrangler dev sets
 * CF-Connecting-IP as Cloudflare does), the device client waiting out the Retry-After it is given.
 */

describe("tenancy against wrangler dev", () => {
  let plane: TestControlPlane;
  let dir: string;
  let env: Record<string, string>;
  const propius = (args: string[], stdin = "") => runPropius([...args, "--url", plane.url], env, stdin);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-tenancy-"));
    env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith("PROPIUS_")).map(([k]) => [k, ""])) as Record<string, string>;
    env.PROPIUS_CONFIG = join(dir, "propius.json");
    plane = await TestControlPlane.start({ RATE_LIMIT_ADDRESS_PER_MINUTE: "3" });
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("rotates the key the CLI is logged in with: the old key is refused with key_revoked, the CLI goes on with the new one", async () => {
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "rotating" });
    expect((await propius(["login"], `${apiKey}\n`)).code).toBe(0);
    const rotated = await propius(["keys", "rotate", "current", "--json"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    const made = JSON.parse(rotated.stdout) as { apiKey: string; revoked: { id: string } };
    expect(JSON.parse(await readFile(env.PROPIUS_CONFIG, "utf8")).keys[plane.url]).toBe(made.apiKey);
    await expect(new OwnerClient({ baseUrl: plane.url, apiKey }).jobs()).rejects.toMatchObject({ code: "key_revoked", status: 401 });
    const listed = await propius(["keys", "ls"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${made.revoked.id}  \\S+ \\S+  \\S+ \\S+$`, "m"));
    expect(listed.stdout).toContain("(this key)");
    const last = await propius(["keys", "revoke", "current"]);
    expect(last).toMatchObject({ code: 1, stderr: expect.stringContaining("last_key") });
  });

  it("limits enrolments from one address with 429 and Retry-After, which the device client waits out", async () => {
    const enrol = () => fetch(`${plane.url}/v1/clients`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    // The address has 3 a minute; the revoked key refused above counted against it too.
    const answers: Response[] = [];
    while (answers.length < 5 && answers.at(-1)?.status !== 429) answers.push(await enrol());
    expect(answers.map((r) => r.status).slice(0, -1).every((s) => s === 201)).toBe(true);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    const limited = answers.at(-1)!;
    expect(limited.status).toBe(429);
    // 3 a minute: one enrolment back every 20 s, less the time since the bucket was last full.
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited", details: { limit: "address", perMinute: 3 } } });
    const started = Date.now();
    const credentials = await new DeviceClient({ baseUrl: plane.url }).register();
    expect(credentials.clientId).toMatch(/^c/);
    expect(Date.now() - started).toBeGreaterThanOrEqual((retryAfter - 1) * 1000);
  });
});
