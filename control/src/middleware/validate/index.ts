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
    const issues = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw new PropiusError("validation_failed", `invalid ${issues[0]?.path || "body"}: ${issues[0]?.message}`, { issues });
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
