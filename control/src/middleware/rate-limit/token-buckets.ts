/**
 * Token buckets by key, free of any platform import: each key may spend `perMinute` requests at
 * once and earns them back evenly over a minute. Kept in the isolate's memory, at most `maxKeys`
 * buckets (the least recently used goes first: a bucket dropped is a full one when it returns).
 */
export interface Take {
  ok: boolean;
  /** When refused: whole seconds until one request is allowed again (what `Retry-After` says). */
  retryAfterSeconds: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly maxKeys = 50_000) {}

  /** Spends one request of `key`'s bucket at `now` (ms), with a limit of `perMinute`. */
  take(key: string, perMinute: number, now: number): Take {
    const bucket = this.buckets.get(key);
    const perMs = perMinute / 60_000;
    const tokens = bucket ? Math.min(perMinute, bucket.tokens + (now - bucket.at) * perMs) : perMinute;
    this.buckets.delete(key);
    if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return { ok: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(key, { tokens, at: now });
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }
}
