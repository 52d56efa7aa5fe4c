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
 * How much of a body no route reads is still received and dropped: Cloudflare's own limit on a
 * request body (100 MB), so that no client can keep a Worker reading for ever.
 */
export const DISCARD_LIMIT = 100_000_000;

/**
 * Reads a body to its end and drops it: for a request refused before its body was needed.
 * Answering while the client is still sending breaks the connection, and under `wrangler dev` the
 * requests after it on the same connection fail with a 503. Past DISCARD_LIMIT bytes the body is
 * cancelled instead, as is one that brings no bytes for `idleMs`: a stalled client holds nothing
 * open for longer.
 */
export async function drain(stream: ReadableStream<Uint8Array> | null, idleMs = DEFAULT_UPLOAD_IDLE_MS): Promise<void> {
  const reader = stream?.getReader();
  if (reader) await discard(reader, DISCARD_LIMIT, idleMs);
}

/** Reads and drops up to `bytes` more of a body, then cancels what is left (or all of it once it stalls for `idleMs`). */
export async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number, idleMs = DEFAULT_UPLOAD_IDLE_MS): Promise<void> {
  try {
    for (let left = bytes; ; ) {
      const next = await withinIdle(reader, reader.read(), idleMs);
      if (next.done) return;
      left -= next.value.length;
      if (left < 0) return void (await reader.cancel());
    }
  } catch {
    // the client went away: nothing left to drain
  }
}

/**
 * A request body that failed while it was read: the client stopped sending before its end (a
 * Content-Length it fell short of, a connection it closed). Answered 400 bad_request, not 500.
 */
export function cutShort(): PropiusError {
  return new PropiusError("bad_request", "the request body ended before it was whole");
}
