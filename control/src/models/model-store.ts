import { PropiusError } from "@propius/shared";

/** A job whose model versions only its own devices (and its tenant) may read by hash (spec `modelAccess: "bound"`). */
export interface ModelOwner {
  job: string;
  tenant: string;
}

/**
 * Who may read a blob by its hash: anyone enrolled (`null`), or only the devices bound to, and the
 * tenants of, these jobs. The same bytes stored by an open job are open.
 */
export type ModelReaders = ModelOwner[] | null;

/** Immutable, content-addressed model blobs: the key is the SHA-256 of the bytes. */
export interface ModelStore {
  /** Stores the bytes (once); `owner`: a job that keeps its models to its own devices. */
  put(bytes: Uint8Array, owner?: ModelOwner): Promise<string>;
  /** Who may read the blob (see ModelReaders); undefined when there is none. */
  readers(hash: string): Promise<ModelReaders | undefined>;
  get(hash: string): Promise<Uint8Array | null>;
  /** The blob as a stream, for reading a large model without holding it whole. */
  getStream(hash: string): Promise<ReadableStream<Uint8Array> | null>;
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const modelKey = (hash: string) => `models/sha256/${hash}`;

/** The model store over an R2 bucket (emulated locally by `wrangler dev`). */
export function r2ModelStore(bucket: R2Bucket): ModelStore {
  return {
    async put(bytes, owner) {
      const hash = await sha256Hex(bytes);
      const key = modelKey(hash);
      const head = await bucket.head(key);
      const before = head ? readersOf(head.customMetadata) : undefined;
      // Written when new, and again when it opens (an open job stores it) or gains an owner; else left as it is.
      const after: ModelReaders = !owner || before === null ? null : [...(before ?? []).filter((o) => o.job !== owner.job), owner];
      if (before === undefined || (before !== null && (after === null || after.length !== before.length))) {
        await bucket.put(key, bytes, { sha256: hash, httpMetadata: { contentType: "application/vnd.propius.weights" }, customMetadata: after ? { readers: JSON.stringify(after) } : {} });
      }
      return hash;
    },
    async readers(hash) {
      const head = await bucket.head(checkedKey(hash));
      return head ? readersOf(head.customMetadata) : undefined;
    },
    async get(hash) {
      const object = await bucket.get(checkedKey(hash));
      return object ? new Uint8Array(await object.arrayBuffer()) : null;
    },
    async getStream(hash) {
      return (await bucket.get(checkedKey(hash)))?.body ?? null;
    },
  };
}

function readersOf(metadata: Record<string, string> | undefined): ModelReaders {
  const raw = metadata?.readers;
  return raw ? (JSON.parse(raw) as ModelOwner[]) : null;
}

function checkedKey(hash: string): string {
  if (!HASH_PATTERN.test(hash)) throw new PropiusError("model_not_found", "a model hash is 64 lowercase hex digits");
  return modelKey(hash);
}
