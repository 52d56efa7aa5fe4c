import { PropiusError } from "@propius/shared";

/** Immutable, content-addressed model blobs: the key is the SHA-256 of the bytes. */
export interface ModelStore {
  put(bytes: Uint8Array): Promise<string>;
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
    async put(bytes) {
      const hash = await sha256Hex(bytes);
      const key = modelKey(hash);
      if (!(await bucket.head(key))) {
        await bucket.put(key, bytes, { sha256: hash, httpMetadata: { contentType: "application/vnd.propius.weights" } });
      }
      return hash;
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

function checkedKey(hash: string): string {
  if (!HASH_PATTERN.test(hash)) throw new PropiusError("model_not_found", "a model hash is 64 lowercase hex digits");
  return modelKey(hash);
}
