/**
 * Bytes to hand to a Durable Object: as a stream, because RPC arguments are limited to 32 MiB and
 * a model or delta may be larger (the upload limit is MAX_UPLOAD_BYTES).
 */
export function asStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new Response(bytes).body!;
}

/** The Durable Object's side of `asStream`. */
export async function fromStream(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
