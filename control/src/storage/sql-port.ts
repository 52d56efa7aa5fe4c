/** The slice of Durable Object storage the stores need (structural, so no platform import is required). */
export interface SqlPort {
  exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[]; readonly rowsWritten?: number };
}
export interface TransactionPort {
  transactionSync<T>(fn: () => T): T;
}

/** Stored values are capped at 2 MB per row, so arrays are kept in 1 MiB chunks. */
export const CHUNK_BYTES = 1 << 20;

/** Runs each statement of a schema (statements separated by semicolons). */
export function applySchema(sql: SqlPort, schema: string): void {
  for (const statement of schema.split(";").map((s) => s.trim()).filter(Boolean)) sql.exec(statement);
}

/**
 * A Float32Array as 1 MiB row values: views of its bytes, not copies (SQLite binds a view's own
 * bytes). A 1M-parameter sum is 4 MB, written on every group: a copy of it was a tenth of a fold.
 */
export function chunksOf(values: Float32Array): Uint8Array[] {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += CHUNK_BYTES) chunks.push(bytes.subarray(offset, offset + CHUNK_BYTES));
  return chunks;
}

/** The Float32Array of `length` values stored by `chunksOf`, from its rows in order. */
export function floatsOf(rows: Record<string, unknown>[], length: number): Float32Array {
  const out = new Uint8Array(length * 4);
  let offset = 0;
  for (const row of rows) {
    const chunk = new Uint8Array(row.data as ArrayBuffer);
    out.set(chunk, offset);
    offset += chunk.length;
  }
  if (offset !== out.length) throw new Error(`stored values are ${offset} bytes, expected ${out.length}`);
  return new Float32Array(out.buffer);
}
