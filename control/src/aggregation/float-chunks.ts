type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Float32 values (little-endian, as stored and sent) from byte chunks cut anywhere, as aligned
 * slices, one per chunk: memory is one chunk, whatever the length of the whole. Throws if the bytes
 * end inside a value.
 */
export async function* floatSlices(chunks: Chunks): AsyncIterable<Float32Array> {
  const carry = new Uint8Array(4);
  let carried = 0;
  for await (const chunk of chunks) {
    let offset = 0;
    if (carried > 0) {
      offset = Math.min(4 - carried, chunk.length);
      carry.set(chunk.subarray(0, offset), carried);
      carried += offset;
      if (carried < 4) continue;
      yield new Float32Array(carry.slice().buffer);
      carried = 0;
    }
    const count = (chunk.length - offset) >> 2;
    const start = chunk.byteOffset + offset;
    if (count > 0) yield start % 4 === 0 ? new Float32Array(chunk.buffer, start, count) : new Float32Array(chunk.slice(offset, offset + count * 4).buffer);
    carried = chunk.length - offset - count * 4;
    carry.set(chunk.subarray(chunk.length - carried), 0);
  }
  if (carried > 0) throw new RangeError(`${carried} stray bytes after the last value`);
}

/**
 * Adds the float32 values of `chunks` into `total`, element by element; the chunks must hold
 * exactly `total.length` values. A partial sum is combined as it streams in, never held whole a
 * second time.
 */
export async function addFloatChunks(total: Float32Array, chunks: Chunks): Promise<void> {
  let index = 0;
  for await (const values of floatSlices(chunks)) {
    if (index + values.length > total.length) throw new RangeError(`more than ${total.length} values`);
    for (let i = 0; i < values.length; i++) total[index + i] += values[i];
    index += values.length;
  }
  if (index !== total.length) throw new RangeError(`expected ${total.length} values, got ${index}`);
}
