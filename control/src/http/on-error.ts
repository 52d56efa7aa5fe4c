import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { PropiusError, type ErrorCode } from "@propius/shared";

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
  405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
};

/**
 * The one error renderer: stable codes, `{ error: { code, message, details? } }`, never a stack
 * trace. A body the request was refused before reading is received to its end before the answer
 * goes (see `receiveUnread`).
 */
export function onError(thrown: Error, c: Context): Response {
  // A body ended as it streamed in (too large, stalled) fails whoever read it: the answer says why.
  const error: Error = (c.get("bodyFailure") as (() => PropiusError | null) | undefined)?.() ?? thrown;
  if (error instanceof PropiusError) {
    // A rate-limited request says when to come back, in the header clients and proxies read.
    const retryAfter = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (error.code === "rate_limited" && typeof retryAfter === "number") c.header("retry-after", String(retryAfter));
    return c.json(error.toBody(), error.status as 400);
  }
  if (error instanceof HTTPException && CODE_FOR_STATUS[error.status]) {
    const code = CODE_FOR_STATUS[error.status];
    return c.json(new PropiusError(code, error.message || code.replaceAll("_", " ")).toBody(), error.status);
  }
  console.error("unhandled error", error);
  return c.json(new PropiusError("internal", "internal error").toBody(), 500);
}

export function notFound(c: Context): Response {
  return c.json(new PropiusError("not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`).toBody(), 404);
}
