import { describe, expect, it } from "vitest";
import { DEFAULT_DEVICE_TOKEN_TTL_SECONDS, deviceTokenTtlMs, issueClientToken, verifyClientToken } from "./tokens.js";

describe("device tokens", () => {
  it("are accepted until their expiry and refused as expired from then on, even once remembered", async () => {
    const { token, expiresAt } = await issueClientToken("s1", "client-0001", 1_000_000);
    expect(expiresAt).toBe(1_000_000);
    expect(await verifyClientToken("s1", token, 999_999)).toEqual({ clientId: "client-0001", expiresAt });
    expect(await verifyClientToken("s1", token, 1_000_000)).toBe("expired");
    expect(await verifyClientToken("s1", token, 999_000)).toEqual({ clientId: "client-0001", expiresAt });
  });

  it("round the expiry up to a whole second", async () => {
    expect((await issueClientToken("s1", "client-0001", 1_000_001)).expiresAt).toBe(1_001_000);
  });

  it("refuse a token signed with another secret, or whose expiry was changed", async () => {
    const { token } = await issueClientToken("s1", "client-0002", 5_000_000);
    expect(await verifyClientToken("s2", token, 0)).toBeNull();
    const [id, , signature] = token.split(".");
    expect(await verifyClientToken("s1", `${id}.${(9_999_999).toString(36)}.${signature}`, 0)).toBeNull();
  });

  it("take their lifetime from DEVICE_TOKEN_TTL_SECONDS, a day by default, a minute at least", () => {
    expect(deviceTokenTtlMs({})).toBe(DEFAULT_DEVICE_TOKEN_TTL_SECONDS * 1000);
    expect(DEFAULT_DEVICE_TOKEN_TTL_SECONDS).toBe(86_400);
    expect(deviceTokenTtlMs({ DEVICE_TOKEN_TTL_SECONDS: "3600" })).toBe(3_600_000);
    expect(deviceTokenTtlMs({ DEVICE_TOKEN_TTL_SECONDS: "5" })).toBe(60_000);
    expect(deviceTokenTtlMs({ DEVICE_TOKEN_TTL_SECONDS: "soon" })).toBe(86_400_000);
  });
});
