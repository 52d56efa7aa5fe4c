import type { Context } from "hono";
import type { z } from "zod";
import { PropiusError } from "@propius/shared";

/**
 * Reads a JSON body and validates it with a zod schema; the one validation hook of the API.
 * Wrong media type: 415 unsupported_media_type. Unparseable: 400 invalid_json.
 * Schema mismatch: 400 validation_failed with the issues in `details`.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/(.+\+)?json\b/i.test(type)) {
    throw new PropiusError("unsupported_media_type", "send the body as application/json");
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new PropiusError("invalid_json", "the request body is not valid JSON");
  }
  return parseWith(schema, body);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    // An unknown key's message names its own path (`plan.batchsize is not a field; did you mean plan.batchSize?`).
    const issues = result.error.issues.map((i) =>
      i.code === "unrecognized_keys" ? { path: [...i.path, ...i.keys.slice(0, 1)].join("."), message: i.message, own: true } : { path: i.path.join("."), message: i.message, own: false },
    );
    // A misspelt key usually explains the "missing" field beside it: name it first.
    issues.sort((a, b) => Number(b.own) - Number(a.own));
    const first = issues[0];
    const message = first?.own ? first.message : `invalid ${first?.path || "body"}: ${first?.message}`;
    throw new PropiusError("validation_failed", issues.length > 1 ? `${message} (and ${issues.length - 1} more)` : message, { issues: issues.map(({ path, message }) => ({ path, message })) });
  }
  return result.data;
}

/** A positive integer path parameter, or validation_failed. */
export function intParam(c: Context, name: string): number {
  const raw = c.req.param(name) ?? "";
  const value = Number(raw);
  if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw new PropiusError("validation_failed", `${name} must be a positive integer`);
  return value;
}
