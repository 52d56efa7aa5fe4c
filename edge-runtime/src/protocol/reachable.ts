import { sleep, type FetchLike } from "./http.js";

export interface ReachableOptions {
  /** Give up after this long (ms). */
  timeoutMs: number;
  /** Time between tries (default 250 ms). */
  intervalMs?: number;
  /** Give up early, for instance when the process that should answer has exited. */
  signal?: AbortSignal;
  fetch?: FetchLike;
}

/**
 * Waits until the control plane at `baseUrl` answers `GET /v1/health` with 2xx: for a device
 * started alongside its control plane, and for scripts that start one. Each try may take up to
 * 5 s. Rejects with a message naming the URL once `timeoutMs` has passed.
 */
export async function waitUntilReachable(baseUrl: string, options: ReachableOptions): Promise<void> {
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const deadline = Date.now() + options.timeoutMs;
  const url = new URL("/v1/health", baseUrl).toString();
  let last = "no answer";
  for (;;) {
    options.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(5_000);
    try {
      const response = await fetchImpl(url, { signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout });
      await response.body?.cancel();
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      options.signal?.throwIfAborted();
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) throw new Error(`the control plane at ${baseUrl} did not answer within ${Math.round(options.timeoutMs / 1000)} s (${last})`);
    await sleep(options.intervalMs ?? 250, options.signal);
  }
}
