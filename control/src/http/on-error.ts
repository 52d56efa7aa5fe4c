import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { PropiusError, type ErrorCode } from "@propius/shared";
import { drain } from "./byte-stream.js";

const CODE_FOR_STATUS: Record<number, ErrorCode> = {
  400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
  405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
};

/**
 * The one error renderer: stable codes, `{ error: { code, message, details? } }`, never a stack
 * trace. A request refused before its body was read (an upload with a used ticket, say) has the
 * body received to its end first (see `drain`); one refused as too large does not.
 */
export async function onError(thrown: Error, c: Context): Promise<Response> {
  // A body ended as it streamed in (too large, stalled) fails whoever read it: the answer says why.
  const error: Error = (c.get("bodyFailure") as (() => PropiusError | null) | undefined)?.() ?? thrown;
  const body = c.req.raw.body;
  if (body && !body.locked && !(error instanceof PropiusError && error.code === "payload_too_large")) await drain(body);
  return render(error, c);
}

function render(error: Error, c: Context): Response {
  if (error instanceof PropiusError) return c.json(error.toBody(), error.status as 400);
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
