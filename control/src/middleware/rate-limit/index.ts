import type { MiddlewareHandler } from "hono";
import { PropiusError } from "@propius/shared";
import type { AppEnv } from "../../http/app-env.js";
import type { Env } from "../../env.js";
import { TokenBuckets } from "./token-buckets.js";

/**
 * Rate limits, per API key, per device and per address, as token buckets in the isolate's memory
 * (see token-buckets.ts): a limit of N a minute allows N at once and N a minute after. On
 * Cloudflare each isolate keeps its own buckets, so a client served by several isolates at once
 * gets up to that many times the limit; the platform's rate-limiting binding is eventually
 * consistent too and allows only 10 s or 60 s windows set in wrangler.toml, where these are set by
 * variables and say exactly when to come back.
 */
export type LimitKind = "key" | "device" | "address";

export const RATE_LIMIT_DEFAULTS: Record<LimitKind, number> = { key: 1200, device: 600, address: 120 };
const VARIABLES: Record<LimitKind, keyof Env> = {
  key: "RATE_LIMIT_KEY_PER_MINUTE",
  device: "RATE_LIMIT_DEVICE_PER_MINUTE",
  address: "RATE_LIMIT_ADDRESS_PER_MINUTE",
};

/** A limit from its variable (a whole number; 0 turns it off), else its default. */
export function limitOf(env: Partial<Env>, kind: LimitKind): number {
  const raw = env[VARIABLES[kind]];
  return typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : RATE_LIMIT_DEFAULTS[kind];
}

const buckets = new TokenBuckets();

/** Spends one request of `id`'s `kind` bucket; throws rate_limited (429, with when to come back) when it is empty. */
export function spend(env: Partial<Env>, kind: LimitKind, id: string, now = Date.now()): void {
  const perMinute = limitOf(env, kind);
  if (perMinute === 0) return;
  const taken = buckets.take(`${kind}:${id}`, perMinute, now);
  if (taken.ok) return;
  throw new PropiusError("rate_limited", `too many requests for this ${kind === "key" ? "API key" : kind}: ${perMinute} a minute; retry after ${taken.retryAfterSeconds} s`, {
    limit: kind, perMinute, retryAfterSeconds: taken.retryAfterSeconds,
  });
}

/**
 * The caller's address, from `CF-Connecting-IP` (Cloudflare sets it on every request, and so does
 * `wrangler dev`); null without one (a test calling the Worker directly), which no address limit counts.
 */
export function addressOf(headers: { header(name: string): string | undefined }): string | null {
  return headers.header("cf-connecting-ip") ?? null;
}

/** Spends one request of the caller's address bucket, if it has an address. */
export function spendAddress(env: Partial<Env>, req: { header(name: string): string | undefined }): void {
  const address = addressOf(req);
  if (address !== null) spend(env, "address", address);
}

/**
 * The address limit for routes anyone may call (enrolment): the one place an anonymous caller can
 * make the control plane do work. Requests with credentials are limited per key or device instead
 * (see middleware/auth), and those whose credentials are refused count against their address too.
 */
export function addressLimit(): MiddlewareHandler<AppEnv> {
  return async function limitAddress(c, next) {
    spendAddress(c.env, c.req);
    await next();
  };
}
