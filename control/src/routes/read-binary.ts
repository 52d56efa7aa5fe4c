import type { Context } from "hono";
import { PropiusError } from "@propius/shared";

/** The request body as bytes (the body-limit middleware has already capped its size). */
export async function readBinary(c: Context): Promise<Uint8Array> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.length === 0) throw new PropiusError("invalid_update", "the request body is empty");
  return bytes;
}
