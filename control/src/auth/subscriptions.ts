import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A job-event subscription token: `es.<payload>.<signature>`, the payload base64url JSON of the
 * job, its tenant and the token's expiry, the signature HMAC-SHA256 over it with a key derived
 * from the token secret (never the secret itself, which also signs client tokens). It is only good
 * for opening one job's event connection for a short while, so it may travel where an API key must
 * not (a WebSocket subprotocol, which servers and proxies may log).
 */
export interface SubscriptionClaims {
  jobId: string;
  tenant: string;
  /** When the token stops opening connections (ms since the epoch). */
  expiresAt: number;
}

export type SubscriptionCheck = { ok: true; claims: SubscriptionClaims } | { ok: false; reason: "invalid" | "expired" | "other_job" };

const PATTERN = /^es\.([A-Za-z0-9_-]{16,600})\.([A-Za-z0-9_-]{43})$/;
const keys = new Map<string, Uint8Array>();
const encoder = new TextEncoder();
const toBase64url = (text: string) => btoa(String.fromCharCode(...encoder.encode(text))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const fromBase64url = (text: string) => new TextDecoder().decode(Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0)));

function keyOf(secret: string): Uint8Array {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createHmac("sha256", secret).update("propius event subscription key v1").digest()));
  return key;
}

const mac = (secret: string, payload: string) => createHmac("sha256", keyOf(secret)).update(payload).digest("base64url");

export function signSubscription(secret: string, claims: SubscriptionClaims): string {
  const payload = toBase64url(JSON.stringify([claims.jobId, claims.tenant, claims.expiresAt]));
  return `es.${payload}.${mac(secret, payload)}`;
}

/** Whether `token` opens `jobId`'s events at `now`: signed by this secret, for that job, not expired. */
export function checkSubscription(secret: string, token: string, jobId: string, now: number): SubscriptionCheck {
  const match = PATTERN.exec(token);
  if (!match) return { ok: false, reason: "invalid" };
  const [, payload, signature] = match;
  if (!timingSafeEqual(encoder.encode(mac(secret, payload)), encoder.encode(signature))) return { ok: false, reason: "invalid" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64url(payload));
  } catch {
    return { ok: false, reason: "invalid" };
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || typeof parsed[1] !== "string" || !Number.isSafeInteger(parsed[2])) return { ok: false, reason: "invalid" };
  const claims = { jobId: parsed[0], tenant: parsed[1], expiresAt: parsed[2] as number };
  if (claims.jobId !== jobId) return { ok: false, reason: "other_job" };
  if (now >= claims.expiresAt) return { ok: false, reason: "expired" };
  return { ok: true, claims };
}
