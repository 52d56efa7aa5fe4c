import { decodeWeightsHeader, sameManifest, type TensorSpec } from "@propius/shared";
import { floatSlices } from "../aggregation/float-chunks.js";

/** Largest header a stored model may have (its tensor manifest as JSON). */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * A stored model's values, slice by slice, from its message as a stream (an R2 object's body):
 * the header is read and checked (a dense fp32 model of `tensors`), then the values follow as they
 * arrive, so a round's close never holds the base model whole.
 */
export async function* modelValues(stream: AsyncIterable<Uint8Array>, tensors: TensorSpec[]): AsyncIterable<Float32Array> {
  const chunks = stream[Symbol.asyncIterator]();
  let head: Uint8Array = new Uint8Array(0);
  let needed = 8;
  while (head.length < needed) {
    const { value, done } = await chunks.next();
    if (done) throw new Error(`the stored model ends after ${head.length} bytes, inside its header`);
    head = concat(head, value);
    if (head.length >= 8) {
      const headerLength = new DataView(head.buffer, head.byteOffset, 8).getUint32(4, true);
      if (headerLength > MAX_HEADER_BYTES) throw new Error(`the stored model's header claims ${headerLength} bytes`);
      needed = (8 + headerLength + 3) & ~3;
    }
  }
  const { header, dataOffset } = decodeWeightsHeader(head);
  if (header.kind !== "model" || header.codec !== "fp32" || header.sparse || !sameManifest(header.tensors, tensors)) {
    throw new Error("the stored model is not a dense fp32 model of the job's tensors");
  }
  yield* floatSlices(prepend(head.subarray(dataOffset), chunks));
}

async function* prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  if (first.length > 0) yield first;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
