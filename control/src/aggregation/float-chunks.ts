/**
 * Adds float32 values (little-endian, as stored and sent) arriving as byte chunks cut anywhere
 * into `total`, element by element; the chunks must hold exactly `total.length` values. Memory
 * is one chunk: a partial sum is combined as it streams in, never held whole a second time.
 */
export async function addFloatChunks(total: Float32Array, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const carry = new Uint8Array(4);
  const carried32 = new Float32Array(carry.buffer);
  let carried = 0;
  let index = 0;
  for await (const chunk of chunks) {
    let offset = 0;
    if (carried > 0) {
      offset = Math.min(4 - carried, chunk.length);
      carry.set(chunk.subarray(0, offset), carried);
      carried += offset;
      if (carried < 4) continue;
      if (index >= total.length) throw new RangeError(`more than ${total.length} values`);
      total[index++] += carried32[0];
      carried = 0;
    }
    const count = (chunk.length - offset) >> 2;
    if (index + count > total.length) throw new RangeError(`more than ${total.length} values`);
    const start = chunk.byteOffset + offset;
    const values = start % 4 === 0 ? new Float32Array(chunk.buffer, start, count) : new Float32Array(chunk.slice(offset, offset + count * 4).buffer);
    for (let i = 0; i < count; i++) total[index + i] += values[i];
    index += count;
    carried = chunk.length - offset - count * 4;
    carry.set(chunk.subarray(chunk.length - carried), 0);
  }
  if (carried > 0 || index !== total.length) throw new RangeError(`expected ${total.length} values, got ${index} and ${carried} stray bytes`);
}
