import type { ModelStore } from "./model-store.js";

/** Blobs above this size are streamed from the store each time, never held in memory. */
const MAX_CACHED_BYTES = 4 << 20;
/** What the isolate may hold in all: well under a Worker's 128 MB. */
const TOTAL_BYTES = 32 << 20;

/**
 * Model versions devices are downloading now, kept in the isolate: a version is immutable (its key
 * is its hash), so a copy is never stale, and every device of a round asks for the same one. Least
 * recently used first out.
 */
export class HotModels {
  private readonly blobs = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(
    private readonly maxBlobBytes = MAX_CACHED_BYTES,
    private readonly totalBytes = TOTAL_BYTES,
  ) {}

  /** The blob of `hash`, from memory or the store (null when the store has none). */
  async get(store: ModelStore, hash: string): Promise<Uint8Array | null> {
    const hit = this.blobs.get(hash);
    if (hit) {
      this.blobs.delete(hash);
      this.blobs.set(hash, hit);
      return hit;
    }
    const blob = await store.get(hash);
    if (blob && blob.length <= this.maxBlobBytes) this.keep(hash, blob);
    return blob;
  }

  private keep(hash: string, blob: Uint8Array): void {
    if (this.blobs.has(hash)) return;
    while (this.bytes + blob.length > this.totalBytes && this.blobs.size > 0) {
      const [oldest, dropped] = this.blobs.entries().next().value!;
      this.blobs.delete(oldest);
      this.bytes -= dropped.length;
    }
    this.blobs.set(hash, blob);
    this.bytes += blob.length;
  }
}

/** The isolate's one set of hot models. */
export const hotModels = new HotModels();
