import { PropiusError } from "@propius/shared";

/**
 * A request's body, handed on to a Durable Object as a stream rather than read here: RPC arguments
 * are limited to 32 MiB, a model or delta may be larger (up to MAX_UPLOAD_BYTES, which the
 * body-limit middleware has checked), and the Worker need not hold a copy of it.
 */
export function bodyStream(request: Request): ReadableStream<Uint8Array> {
  return request.body ?? new Response(new Uint8Array(0)).body!;
}

/** The Durable Object's side of `bodyStream`: the bytes, refused when there are none. */
export async function fromStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  if (bytes.length === 0) throw new PropiusError("invalid_update", "the request body is empty");
  return bytes;
}

/**
 * Reads a body to its end and drops it: for an upload refused before its body was needed.
 * Answering while the client is still sending breaks the connection, and under `wrangler dev` the
 * request after it on the same connection fails with a 503.
 */
export async function drain(stream: ReadableStream<Uint8Array> | null): Promise<void> {
  const reader = stream?.getReader();
  if (!reader) return;
  try {
    while (!(await reader.read()).done);
  } catch {
    // the client went away: nothing left to drain
  }
}
