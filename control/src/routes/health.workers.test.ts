import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";

describe("GET /v1/health", () => {
  it("answers with the protocol version", async () => {
    const response = await SELF.fetch("http://control/v1/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, protocol: 1 });
  });

  it("answers an unknown route with a not_found error body", async () => {
    const response = await SELF.fetch("http://control/v1/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
  });
});
