import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { PropiusError } from "@propius/shared";

export const JSON_BODY_LIMIT = 1 << 20;
export const DEFAULT_UPLOAD_LIMIT = 64 << 20;

/**
 * Refuses a body larger than `maxBytes` before it is buffered: by Content-Length when given,
 * else while streaming. Errors with `payload_too_large` (413).
 */
export function bodyLimit(maxBytes: number | ((env: { MAX_UPLOAD_BYTES?: string }) => number)): MiddlewareHandler {
  return async function limitBody(c, next) {
    const limit = typeof maxBytes === "number" ? maxBytes : maxBytes(c.env ?? {});
    return honoBodyLimit({
      maxSize: limit,
      onError: () => {
        throw new PropiusError("payload_too_large", `the request body exceeds ${limit} bytes`, { limit });
      },
    })(c, next);
  };
}

/** The upload limit configured for the Worker (MAX_UPLOAD_BYTES), or 64 MiB. */
export function uploadLimit(env: { MAX_UPLOAD_BYTES?: string }): number {
  const configured = Number(env.MAX_UPLOAD_BYTES);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_UPLOAD_LIMIT;
}
