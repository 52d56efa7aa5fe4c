import type { MiddlewareHandler } from "hono";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { PropiusError } from "@propius/shared";
import { countedBody } from "../../http/counted-body.js";
import { uploadIdleMs } from "../../http/timed-read.js";
import type { AppEnv } from "../../http/app-env.js";

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

/**
 * The limit for a large body that is handed on as a stream (a delta, a model): one with a
 * Content-Length over `maxBytes` is refused at once; one sent without a length is passed on as it
 * arrives, counted, and ended at the limit or when it stalls (see `countedBody`: hono's limit
 * would gather up to `maxBytes` of it in the Worker first, and wait for ever on one that stalls).
 * The error handler answers with the reason the body was ended (`bodyFailure`).
 */
export function streamLimit(maxBytes: (env: { MAX_UPLOAD_BYTES?: string }) => number): MiddlewareHandler<AppEnv> {
  return async function limitStream(c, next) {
    const body = c.req.raw.body;
    const limit = maxBytes(c.env ?? {});
    const length = c.req.header("content-length");
    if (!body || (length !== undefined && c.req.header("transfer-encoding") === undefined)) {
      if (Number(length) > limit) throw new PropiusError("payload_too_large", `the request body exceeds ${limit} bytes`, { limit });
      return next();
    }
    const counted = countedBody(body, limit, uploadIdleMs(c.env ?? {}));
    c.req.raw = new Request(c.req.raw, { body: counted.stream });
    c.set("bodyFailure", counted.failure);
    return next();
  };
}

/** The upload limit configured for the Worker (MAX_UPLOAD_BYTES), or 64 MiB. */
export function uploadLimit(env: { MAX_UPLOAD_BYTES?: string }): number {
  const configured = Number(env.MAX_UPLOAD_BYTES);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_UPLOAD_LIMIT;
}
