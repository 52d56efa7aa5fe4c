import { describe, expect, it } from "vitest";
import { TokenBuckets } from "./token-buckets.js";

describe("token buckets", () => {
  it("allow the limit at once, then one request per 60/limit seconds, and say when the next is allowed", () => {
    const buckets = new TokenBuckets();
    for (let i = 0; i < 6; i++) expect(buckets.take("k", 6, 0).ok).toBe(true);
    expect(buckets.take("k", 6, 0)).toEqual({ ok: false, retryAfterSeconds: 10 });
    expect(buckets.take("k", 6, 4_000)).toEqual({ ok: false, retryAfterSeconds: 6 });
    expect(buckets.take("k", 6, 10_000).ok).toBe(true);
    expect(buckets.take("k", 6, 10_000).ok).toBe(false);
    // A minute idle refills the bucket to the limit, never beyond it.
    for (let i = 0; i < 6; i++) expect(buckets.take("k", 6, 600_000).ok).toBe(true);
    expect(buckets.take("k", 6, 600_000).ok).toBe(false);
  });

  it("keep keys apart, and hold at most maxKeys buckets, the least recently used dropped first", () => {
    const buckets = new TokenBuckets(2);
    expect(buckets.take("a", 1, 0).ok).toBe(true);
    expect(buckets.take("b", 1, 0).ok).toBe(true);
    expect(buckets.take("a", 1, 0).ok).toBe(false);
    expect(buckets.take("c", 1, 0).ok).toBe(true);
    expect(buckets.size).toBe(2);
    // b was the least recently used: dropped, it starts full again; a was kept, still empty.
    expect(buckets.take("b", 1, 0).ok).toBe(true);
    expect(buckets.take("c", 1, 0).ok).toBe(false);
  });
});
