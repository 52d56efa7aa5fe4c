import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CliIo } from "./context.js";
import { runCli } from "./run.js";
import { keyIdOf } from "./keys.js";

/**
 * `propius keys ...` against a control plane standing in as a fetch that answers from a table (the
 * CLI's external edge); the routes themselves are tested in control/src/routes/keys.workers.test.ts, and the CLI against them in test/integration/owner-cli.test.ts.
 */

const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const URL_ = "http://cp.test:8787";
const OLD = "pk_acme_old";
const NEW = "pk_acme_new";
const at = Date.UTC(2026, 11, 3, 7);

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "propius-keys-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));

async function propius(line: string[], answers: Record<string, (authorization: string | null) => Response>) {
  const seen: string[] = [];
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: { PROPIUS_CONFIG: join(dir, "propius.json") },
    readSecret: async () => OLD,
    fetch: async (input, init = {}) => {
      const url = new URL(input);
      const authorization = new Headers(init.headers).get("authorization");
      seen.push(`${init.method ?? "GET"} ${url.pathname} ${authorization}`);
      const answer = answers[`${init.method ?? "GET"} ${url.pathname}`];
      return answer ? answer(authorization) : json(404, { error: { code: "not_found", message: "no route" } });
    },
  };
  const code = await runCli(line, io);
  return { code, stdout, stderr, seen };
}

const config = async () => JSON.parse(await readFile(join(dir, "propius.json"), "utf8")) as { keys: Record<string, string> };

describe("propius keys", () => {
  beforeEach(async () => {
    expect((await propius(["login", "--url", URL_], { "GET /v1/jobs": () => json(200, { jobs: [] }) })).code).toBe(0);
  });

  it("lists keys by id and marks the one in use", async () => {
    const keys = [{ id: keyIdOf(OLD), createdAt: at, revokedAt: null }, { id: "0123456789ab", createdAt: at, revokedAt: at + 60_000 }];
    const run = await propius(["keys", "ls"], { "GET /v1/keys": () => json(200, { keys }) });
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toBe(
      [
        "id            created               revoked",
        `${keyIdOf(OLD)}  2026-12-03 07:00:00Z  -                     (this key)`,
        "0123456789ab  2026-12-03 07:00:00Z  2026-12-03 07:01:00Z",
        "",
      ].join("\n"),
    );
  });

  it("rotates the key in use: prints the new key once and stores it in place of the old", async () => {
    const made = { apiKey: NEW, key: { id: keyIdOf(NEW), createdAt: at, revokedAt: null }, revoked: { id: keyIdOf(OLD), createdAt: at, revokedAt: at } };
    const run = await propius(["keys", "rotate", "current"], { [`POST /v1/keys/${keyIdOf(OLD)}/rotate`]: () => json(201, made) });
    expect(run.code, run.stderr).toBe(0);
    expect(run.seen).toEqual([`POST /v1/keys/${keyIdOf(OLD)}/rotate Bearer ${OLD}`]);
    expect(run.stdout).toContain(`key ${keyIdOf(OLD)} revoked; key ${keyIdOf(NEW)} replaces it and is shown this once:\n${NEW}\n`);
    expect((await config()).keys[URL_]).toBe(NEW);
    // The commands after it use the new key.
    const next = await propius(["jobs", "ls"], { "GET /v1/jobs": () => json(200, { jobs: [] }) });
    expect(next.seen).toEqual([`GET /v1/jobs Bearer ${NEW}`]);
  });

  it("says what the control plane says when the last key is revoked, and keeps the stored key", async () => {
    const run = await propius(["keys", "revoke", "current"], {
      [`DELETE /v1/keys/${keyIdOf(OLD)}`]: () => json(409, { error: { code: "last_key", message: "this is the tenant's last working API key" } }),
    });
    expect(run).toMatchObject({ code: 1, stderr: "propius: last_key: this is the tenant's last working API key\n" });
    expect((await config()).keys[URL_]).toBe(OLD);
  });

  it("makes an enrolment token for one job and prints it once; lists and revokes tokens by id", async () => {
    const info = { id: "abcdefabcdef", job: "job_abcdefgh", createdAt: at, revokedAt: null };
    const answers = {
      "POST /v1/enrolment-tokens": () => json(201, { enrolmentToken: "et_secret", token: info }),
      "GET /v1/enrolment-tokens": () => json(200, { tokens: [info, { ...info, id: "0123456789ab", job: null, revokedAt: at }] }),
      "DELETE /v1/enrolment-tokens/abcdefabcdef": () => json(200, { ...info, revokedAt: at }),
    };
    const made = await propius(["enrolment-tokens", "create", "--job", "job_abcdefgh"], answers);
    expect(made.stdout).toBe("enrolment token abcdefabcdef made for job_abcdefgh; it is shown this once:\net_secret\n");
    const listed = await propius(["enrolment-tokens", "ls"], answers);
    expect(listed.stdout.split("\n")[2]).toBe("0123456789ab  (any)         2026-12-03 07:00:00Z  2026-12-03 07:00:00Z");
    expect((await propius(["enrolment-tokens", "revoke", "abcdefabcdef"], answers)).stdout).toBe("enrolment token abcdefabcdef revoked\n");
  });

  it("makes a key and prints it once; revokes another by id", async () => {
    const created = await propius(["keys", "create"], { "POST /v1/keys": () => json(201, { apiKey: NEW, key: { id: keyIdOf(NEW), createdAt: at, revokedAt: null } }) });
    expect(created.stdout).toBe(`key ${keyIdOf(NEW)} made; it is shown this once:\n${NEW}\n`);
    const revoked = await propius(["keys", "revoke", "0123456789ab"], { "DELETE /v1/keys/0123456789ab": () => json(200, { id: "0123456789ab", createdAt: at, revokedAt: at }) });
    expect(revoked).toMatchObject({ code: 0, stdout: "key 0123456789ab revoked\n" });
  });
});
