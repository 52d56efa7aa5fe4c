import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { MAX_JSON_DEPTH, PropiusError, nestsDeeperThan, type ErrorCode } from "@propius/shared";
import { cutShort } from "../../http/byte-stream.js";

/**
 * The API's validation: routes declare their body, path, query and header schemas once (see
 * http/api-routes.ts), and what does not match is refused here with a stable code. A JSON body of
 * the wrong media type is 415 unsupported_media_type, one that does not parse 400 invalid_json
 * or nests deeper than MAX_JSON_DEPTH (`jsonBody`), one that does not match its schema 400 validation_failed with the issues in
 * `details` (`refuseInvalid`).
 */

/** Checks a JSON body's media type and that it parses, before its schema is applied. */
export function jsonBody(): MiddlewareHandler {
  return async function checkJsonBody(c, next) {
    const type = c.req.header("content-type") ?? "";
    if (!/^application\/(.+\+)?json\b/i.test(type)) throw new PropiusError("unsupported_media_type", "send the body as application/json");
    const text = await c.req.text().catch(() => {
      throw cutShort();
    });
    if (nestsDeeperThan(text)) throw new PropiusError("invalid_json", `the request body nests deeper than ${MAX_JSON_DEPTH} levels`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new PropiusError("invalid_json", "the request body is not valid JSON");
    }
    // The schema's validator reads the body through the request's cache: this parse, not another.
    c.req.bodyCache.json = Promise.resolve(value);
    await next();
  };
}

/**
 * A request part that does not name a resource the way its schema says is that resource missing,
 * not a malformed request: a path's job id is job_not_found, as a job that does not exist is.
 */
const REFUSALS: Record<string, Record<string, [ErrorCode, string]>> = {
  param: { id: ["job_not_found", "no such job"], hash: ["model_not_found", "a model hash is 64 lowercase hex digits"] },
  query: { job: ["job_not_found", "no such job"] },
  header: { "propius-ticket": ["ticket_invalid", "send the task's ticket in the propius-ticket header"] },
};

/** The validators' hook (`defaultHook` of every route group): a failed parse becomes the API's error. */
export function refuseInvalid(result: { success: true } | { success: false; error: z.ZodError; target: string }): void {
  if (result.success) return;
  const name = String(result.error.issues[0]?.path[0] ?? "");
  const refusal = REFUSALS[result.target]?.[name];
  if (refusal) throw new PropiusError(...refusal);
  throw validationError(result.error);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

/** validation_failed, naming the first issue (a misspelt key before the "missing" field beside it). */
function validationError(error: z.ZodError): PropiusError {
  // An unknown key's message names its own path (`plan.batchsize is not a field; did you mean plan.batchSize?`).
  const issues = error.issues.map((i) =>
    i.code === "unrecognized_keys" ? { path: [...i.path, ...i.keys.slice(0, 1)].join("."), message: i.message, own: true } : { path: i.path.join("."), message: i.message, own: false },
  );
  issues.sort((a, b) => Number(b.own) - Number(a.own));
  const first = issues[0];
  const message = first?.own ? first.message : `invalid ${first?.path || "body"}: ${first?.message}`;
  return new PropiusError("validation_failed", issues.length > 1 ? `${message} (and ${issues.length - 1} more)` : message, { issues: issues.map(({ path, message }) => ({ path, message })) });
}
