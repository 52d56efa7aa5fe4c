import { PropiusError } from "@propius/shared";

/** An upload whose body brings no new bytes for this long is ended (`UPLOAD_IDLE_MS`). */
export const DEFAULT_UPLOAD_IDLE_MS = 30_000;

/**
 * Progress is looked for this many bytes at a time: a body must bring 64 KiB within the idle time
 * (about 2 kB/s at the default), however large the buffer it fills.
 */
export const PROGRESS_BYTES = 64 << 10;

/** The idle time configured for the Worker (UPLOAD_IDLE_MS), or 30 s. */
export function uploadIdleMs(env: { UPLOAD_IDLE_MS?: string }): number {
  const configured = Number(env.UPLOAD_IDLE_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_UPLOAD_IDLE_MS;
}

/** A byte stream's reader as the platforms give it: workerd adds `readAtLeast`, Node has `read` alone. */
type ByobReader = ReadableStreamBYOBReader & { readAtLeast?(min: number, view: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>> };

/** A filled buffer: its bytes (shorter than asked when the body ended) and whether the body ended. */
export interface Filled {
  bytes: Uint8Array;
  done: boolean;
}

/**
 * Fills `buffer` from a byte stream, to its length or the body's end, with one native read per
 * 64 KiB or more (each read takes whatever has arrived). A read that brings nothing for `idleMs`
 * cancels the stream (which ends the connection of a device that stopped sending) and fails with
 * `upload_stalled` (408): a body that stops half way holds up no one for longer than that.
 */
export async function fillWithin(reader: ByobReader, buffer: Uint8Array, idleMs: number): Promise<Filled> {
  // Each read hands the buffer over and back (a BYOB read detaches the one it was given; the view
  // it gives back at the end may be an empty one at offset 0, so the offset is kept here).
  const { byteOffset, byteLength: size } = buffer;
  let view = buffer;
  let filled = 0;
  while (filled < size) {
    const read = await withinIdle(reader, readSome(reader, new Uint8Array(view.buffer, byteOffset + filled, size - filled)), idleMs);
    if (read.value) {
      view = new Uint8Array(read.value.buffer, byteOffset, size);
      filled += read.value.byteLength;
    }
    if (read.done) return { bytes: view.subarray(0, filled), done: true };
  }
  return { bytes: view, done: false };
}

function readSome(reader: ByobReader, free: Uint8Array): Promise<ReadableStreamReadResult<Uint8Array>> {
  return reader.readAtLeast ? reader.readAtLeast(Math.min(PROGRESS_BYTES, free.byteLength), free) : reader.read(free);
}

/** `read`, or `upload_stalled` once `idleMs` pass without it (the stream is cancelled then). */
export async function withinIdle<T>(reader: { cancel(reason?: unknown): Promise<void> }, read: Promise<T>, idleMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const idle = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const stalled = new PropiusError("upload_stalled", `the body brought no bytes for ${idleMs / 1000} s; send it again`, { idleMs });
      reader.cancel(stalled).catch(() => undefined);
      reject(stalled);
    }, idleMs);
  });
  try {
    return await Promise.race([read, idle]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
