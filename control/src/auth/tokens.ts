import { sha256Hex } from "../models/model-store.js";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function randomId(bytes = 16): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
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
  return base64url(new Uint8Array(signature));
}

/** A client token: `ct_<clientId>.<HMAC-SHA256(clientId)>`; verified without storage. */
export async function issueClientToken(secret: string, clientId: string): Promise<string> {
  return `ct_${clientId}.${await sign(secret, clientId)}`;
}

/** Tokens this isolate has verified, by secret: a device sends the same token on every request. */
const verified = new Map<string, Map<string, string>>();
const VERIFIED_LIMIT = 10_000;

/**
 * The client id a token was issued to, or null when the token is malformed or forged. A token
 * verified once is remembered (tokens do not expire; a new secret starts a new memo), so the HMAC
 * runs once per device and isolate rather than on every request.
 */
export async function verifyClientToken(secret: string, token: string): Promise<string | null> {
  let memo = verified.get(secret);
  const known = memo?.get(token);
  if (known !== undefined) return known;
  const clientId = await checkClientToken(secret, token);
  if (clientId === null) return null;
  if (!memo) verified.set(secret, (memo = new Map()));
  if (memo.size >= VERIFIED_LIMIT) memo.delete(memo.keys().next().value!);
  memo.set(token, clientId);
  return clientId;
}

async function checkClientToken(secret: string, token: string): Promise<string | null> {
  const match = /^ct_([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, clientId, signature] = match;
  const bytes = Uint8Array.from(atob(signature.replaceAll("-", "+").replaceAll("_", "/") + "="), (ch) => ch.charCodeAt(0));
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), bytes, encoder.encode(clientId));
  return ok ? clientId : null;
}

/** A new API key for a tenant; only its hash is stored. */
export function newApiKey(tenant: string): string {
  return `pk_${tenant}_${randomId(24)}`;
}

export function hashKey(key: string): Promise<string> {
  return sha256Hex(encoder.encode(key));
}
