import { decodeDigits, demoShard, demoTestSet, describeShard, useDigitsCache } from "@propius/edge-runtime/demo";
import type { LocalData } from "@propius/edge-runtime/training";
import type { DataSummary } from "../contract.js";

let fetched: { url: string; bytes: Promise<Uint8Array> } | undefined;

/** Fetches the page's own copy of the demo digits (built from the `mnist` package; no CDN), once. */
function digitsFrom(url: string): Promise<Uint8Array> {
  if (fetched?.url !== url) {
    const bytes = fetch(url).then(async (response) => {
      if (!response.ok) throw new Error(`the demo digits are not served at ${url} (HTTP ${response.status}); build the page with 'npm run build --workspace web-client'`);
      const body = new Uint8Array(await response.arrayBuffer());
      decodeDigits(body); // fail here, with a clear message, rather than deep inside the split
      return body;
    });
    fetched = { url, bytes };
    bytes.catch(() => (fetched = undefined));
  }
  return fetched.bytes;
}

/**
 * One non-IID shard of the MNIST digits, chosen by index and seed with the same partitioning as
 * the Node devices use: the tab's data never leaves it.
 */
export async function loadDemoShard(options: { index: number; shards: number; seed: number; digitsUrl: string }): Promise<{ data: LocalData; summary: DataSummary }> {
  const bytes = await digitsFrom(options.digitsUrl);
  useDigitsCache({ read: async () => bytes, write: async () => {} });
  const shard = { index: options.index, shards: options.shards, seed: options.seed };
  const [data, info] = await Promise.all([demoShard(shard), describeShard(shard)]);
  return { data, summary: { source: "demo", description: info.summary, examples: data.count } };
}

/** The demo's held-out test digits (2,000, disjoint from every shard), once the digits are loaded. */
export async function loadHeldOut(digitsUrl: string): Promise<LocalData> {
  const bytes = await digitsFrom(digitsUrl);
  useDigitsCache({ read: async () => bytes, write: async () => {} });
  return demoTestSet();
}
