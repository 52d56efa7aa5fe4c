import type { MiddlewareHandler } from "hono";
import { PropiusError } from "@propius/shared";
import { countedBody } from "../../http/counted-body.js";
import { uploadIdleMs } from "../../http/timed-read.js";
import type { AppEnv } from "../../http/app-env.js";
import { DISCARD_LIMIT, cutShort, discard, drain } from "../../http/byte-stream.js";

export const JSON_BODY_LIMIT = 1 << 20;
export const DEFAULT_UPLOAD_LIMIT = 64 << 20;

/**
 * Refuses a body larger than `maxBytes` before it is buffered: by Content-Length when given, else
 * counted as it streams (and kept, at most `maxBytes` of it, for the route). Errors with
 * `payload_too_large` (413). A refused body is still received to its end and dropped (see
 * `receiveUnread`): answering while the client is still sending breaks the connection.
 */
export function bodyLimit(maxBytes: number | ((env: { MAX_UPLOAD_BYTES?: string }) => number)): MiddlewareHandler {
  return async function limitBody(c, next) {
    const body = c.req.raw.body;
    if (!body) return next();
    const limit = typeof maxBytes === "number" ? maxBytes : maxBytes(c.env ?? {});
    const tooLarge = () => new PropiusError("payload_too_large", `the request body exceeds ${limit} bytes`, { limit });
    const declared = declaredLength(c.req.raw.headers);
    if (declared !== null) {
      if (declared > limit) throw tooLarge();
      return next();
    }
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const read = () => reader.read().catch(() => {
      throw cutShort();
    });
    for (let next = await read(); !next.done; next = await read()) {
      size += next.value.length;
      if (size > limit) {
        await discard(reader, DISCARD_LIMIT - size);
        throw tooLarge();
      }
      chunks.push(next.value);
    }
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) (whole.set(chunk, offset), (offset += chunk.length));
    c.req.raw = new Request(c.req.raw, { body: whole });
    return next();
  };
}

/** The Content-Length a request states (none when it is chunked, as the HTTP rules say). */
function declaredLength(headers: Headers): number | null {
  const length = headers.get("content-length");
  if (length === null || headers.has("transfer-encoding") || !/^\d+$/.test(length.trim())) return null;
  return Number(length);
}

/**
 * Receives whatever part of the request's body the route left unread, before the answer goes out:
 * a body refused unread (too large, unauthenticated, sent to a route that takes none, to no route)
 * is read to its end and dropped, up to DISCARD_LIMIT bytes. Under `wrangler dev` an answer sent
 * while the client is still sending resets the connection it came on, and the requests that share
 * that connection with it fail with 503 "Your worker restarted mid-request".
 */
export function receiveUnread(): MiddlewareHandler {
  return async function receiveRest(c, next) {
    const body = c.req.raw.body;
    await next();
    if (body && !body.locked) await drain(body);
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
    await next();
    // An answer sent while the client is still sending breaks its connection (see `receiveUnread`).
    await counted.rest();
  };
}

/** The upload limit configured for the Worker (MAX_UPLOAD_BYTES), or 64 MiB. */
export function uploadLimit(env: { MAX_UPLOAD_BYTES?: string }): number {
  const configured = Number(env.MAX_UPLOAD_BYTES);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_UPLOAD_LIMIT;
}
