import { describe, expect, it } from "vitest";
import { DeviceClient, type Credentials } from "./device-client.js";

/** The control plane as the device's fetch sees it (its external edge): answers by `METHOD /path`, recording each request's token. */
function plane(answers: Record<string, (token: string | null) => Response>) {
  const seen: string[] = [];
  const fetch = async (input: string, init: RequestInit = {}) => {
    const path = new URL(input).pathname;
    const token = new Headers(init.headers).get("authorization")?.replace(/^Bearer /, "") ?? null;
    seen.push(`${init.method ?? "GET"} ${path} ${token}`);
    const answer = answers[`${init.method ?? "GET"} ${path}`];
    return answer ? answer(token) : Response.json({ error: { code: "not_found", message: path } }, { status: 404 });
  };
  return { seen, fetch };
}
const wait = () => Response.json({ status: "wait", retryAfterMs: 1000, reason: "no_jobs" });
const refused = (code: string) => Response.json({ error: { code, message: code } }, { status: 401 });
const hour = 3_600_000;

describe("DeviceClient's token", () => {
  it("is renewed once it is halfway through its life, before the call that finds it due, and the new one is kept", async () => {
    const { seen, fetch } = plane({
      "POST /v1/clients/token": () => Response.json({ clientId: "c1", token: "t2", expiresAt: Date.now() + 24 * hour, protocol: 1 }, { status: 201 }),
      "POST /v1/checkin": wait,
    });
    const kept: Credentials[] = [];
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "t1", expiresAt: Date.now() + hour, renewAfter: Date.now() - 1 }, onCredentials: (c) => void kept.push(c) });
    await client.checkIn({});
    await client.checkIn({});
    expect(seen).toEqual(["POST /v1/clients/token t1", "POST /v1/checkin t2", "POST /v1/checkin t2"]);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatchObject({ clientId: "c1", token: "t2" });
    expect(kept[0].renewAfter! - Date.now()).toBeGreaterThan(11 * hour);
  });

  it("is not renewed before it is due", async () => {
    const { seen, fetch } = plane({ "POST /v1/checkin": wait });
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "t1", expiresAt: Date.now() + hour, renewAfter: Date.now() + hour / 2 } });
    await client.checkIn({});
    expect(seen).toEqual(["POST /v1/checkin t1"]);
  });

  it("keeps working with the current token while a renewal fails", async () => {
    const { seen, fetch } = plane({ "POST /v1/clients/token": () => Response.json({ error: { code: "rate_limited", message: "slow down" } }, { status: 400 }), "POST /v1/checkin": wait });
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "t1", expiresAt: Date.now() + hour, renewAfter: Date.now() - 1 } });
    expect(await client.checkIn({})).toMatchObject({ status: "wait" });
    expect(seen).toEqual(["POST /v1/clients/token t1", "POST /v1/checkin t1"]);
  });

  it("when it has expired all the same, enrols again and repeats the call once", async () => {
    const { seen, fetch } = plane({
      "POST /v1/clients": () => Response.json({ clientId: "c2", token: "n1", expiresAt: Date.now() + 24 * hour, protocol: 1 }, { status: 201 }),
      "POST /v1/checkin": (token) => (token === "old" ? refused("token_expired") : wait()),
    });
    const kept: Credentials[] = [];
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "old" }, onCredentials: (c) => void kept.push(c) });
    expect(await client.checkIn({})).toMatchObject({ status: "wait" });
    expect(seen).toEqual(["POST /v1/checkin old", "POST /v1/clients null", "POST /v1/checkin n1"]);
    expect(kept.map((c) => c.clientId)).toEqual(["c2"]);
  });

  it("enrols again with the enrolment token it first enrolled with", async () => {
    const bodies: string[] = [];
    const { fetch } = plane({
      "POST /v1/clients": () => Response.json({ clientId: `c${bodies.length}`, token: `n${bodies.length}`, expiresAt: Date.now() + hour, protocol: 1 }, { status: 201 }),
      "POST /v1/checkin": (token) => (token === "n1" ? refused("token_expired") : wait()),
    });
    const recording = async (input: string, init: RequestInit = {}) => (init.body && bodies.push(String(init.body)), fetch(input, init));
    const client = new DeviceClient({ baseUrl: "http://cp", fetch: recording });
    await client.register({ platform: "test" }, { enrolmentToken: "et_owner" });
    await client.checkIn({});
    expect(bodies.filter((b) => b.includes("enrolmentToken")).map((b) => JSON.parse(b).enrolmentToken)).toEqual(["et_owner", "et_owner"]);
  });

  it("when revoked, is not worked around: the call throws token_revoked and nothing enrols", async () => {
    const { seen, fetch } = plane({ "POST /v1/checkin": () => refused("token_revoked") });
    const client = new DeviceClient({ baseUrl: "http://cp", fetch, credentials: { clientId: "c1", token: "t1" } });
    await expect(client.checkIn({})).rejects.toMatchObject({ code: "token_revoked" });
    expect(seen).toEqual(["POST /v1/checkin t1"]);
  });
});
