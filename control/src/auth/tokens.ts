import { toBase64Url } from "@propius/shared";
import { sha256Hex } from "../models/model-store.js";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

export function randomId(bytes = 16): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(bytes)));
}

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    keys.set(secret, key);
  }
  return key;
}

async function sign(secret: string, message: string): Promise<string> {
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return toBase64Url(new Uint8Array(signature));
}

/** How long a device token lasts unless DEVICE_TOKEN_TTL_SECONDS says otherwise: a day (a device renews it before then). */
export const DEFAULT_DEVICE_TOKEN_TTL_SECONDS = 86_400;

/** The device-token lifetime in ms from `DEVICE_TOKEN_TTL_SECONDS` (whole seconds, 60 to 365 days' worth), else the default. */
export function deviceTokenTtlMs(env: { DEVICE_TOKEN_TTL_SECONDS?: string }): number {
  const raw = env.DEVICE_TOKEN_TTL_SECONDS;
  const seconds = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : DEFAULT_DEVICE_TOKEN_TTL_SECONDS;
  return Math.min(Math.max(seconds, 60), 365 * 86_400) * 1000;
}

export interface IssuedToken {
  token: string;
  /** When the token stops being accepted (ms since the epoch). */
  expiresAt: number;
}

/**
 * A client token: `ct_<clientId>.<expiry>.<HMAC-SHA256(clientId.expiry)>`, the expiry in whole
 * seconds since the epoch, base 36. Verified without storage; refused as token_expired after its expiry.
 */
export async function issueClientToken(secret: string, clientId: string, expiresAt: number): Promise<IssuedToken> {
  const expiry = Math.ceil(expiresAt / 1000).toString(36);
  return { token: `ct_${clientId}.${expiry}.${await sign(secret, `${clientId}.${expiry}`)}`, expiresAt: parseInt(expiry, 36) * 1000 };
}

/** What a client token says: its device and expiry, `expired` (genuine, but past its expiry or of the old form without one), or null when malformed or forged. */
export type TokenCheck = { clientId: string; expiresAt: number } | "expired" | null;

/** Tokens this isolate has verified, by secret: a device sends the same token on every request. */
const verified = new Map<string, Map<string, { clientId: string; expiresAt: number }>>();
const VERIFIED_LIMIT = 10_000;

/**
 * Checks a client token at `now`. A genuine token is remembered (a new secret starts a new memo),
 * so the HMAC runs once per device and isolate rather than on every request; its expiry is checked
 * every time.
 */
export async function verifyClientToken(secret: string, token: string, now: number): Promise<TokenCheck> {
  let memo = verified.get(secret);
  const known = memo?.get(token) ?? (await checkClientToken(secret, token));
  if (known === null || known === "expired") return known;
  if (!memo) verified.set(secret, (memo = new Map()));
  if (!memo.has(token)) {
    if (memo.size >= VERIFIED_LIMIT) memo.delete(memo.keys().next().value!);
    memo.set(token, known);
  }
  return now >= known.expiresAt ? "expired" : known;
}

async function checkClientToken(secret: string, token: string): Promise<TokenCheck> {
  const match = /^ct_([A-Za-z0-9_-]{8,64})\.(?:([0-9a-z]{1,10})\.)?([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, clientId, expiry, signature] = match;
  const bytes = Uint8Array.from(atob(signature.replaceAll("-", "+").replaceAll("_", "/") + "="), (ch) => ch.charCodeAt(0));
  const signed = expiry === undefined ? clientId : `${clientId}.${expiry}`;
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), bytes, encoder.encode(signed));
  if (!ok) return null;
  // A token of the first form (no expiry) is genuine but lasts no longer: its device renews by enrolling again.
  return expiry === undefined ? "expired" : { clientId, expiresAt: parseInt(expiry, 36) * 1000 };
}

/** A new API key for a tenant; only its hash is stored. */
export function newApiKey(tenant: string): string {
  return `pk_${tenant}_${randomId(24)}`;
}

export function hashKey(key: string): Promise<string> {
  return sha256Hex(encoder.encode(key));
}
