import { PropiusError } from "@propius/shared";
import { DEFAULT_UPLOAD_IDLE_MS, withinIdle } from "./timed-read.js";

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
 * request after it on the same connection fails with a 503. A body that stops bringing bytes for
 * `idleMs` is cancelled instead: a stalled device holds nothing open for longer.
 */
export async function drain(stream: ReadableStream<Uint8Array> | null, idleMs = DEFAULT_UPLOAD_IDLE_MS): Promise<void> {
  const reader = stream?.getReader();
  if (!reader) return;
  try {
    while (!(await withinIdle(reader, reader.read(), idleMs)).done);
  } catch {
    // the client went away or stalled: nothing left to drain
  } finally {
    reader.releaseLock();
  }
}
