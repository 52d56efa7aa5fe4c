import { PropiusError, isErrorBody, type ErrorCode } from "@propius/shared";
import { UnreachableError } from "./unreachable-error.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  baseUrl: string;
  fetch?: FetchLike;
  /** Attempts for a request that fails at the network level or with a 5xx (default 6). */
  attempts?: number;
  /** First back-off delay in ms, doubled per attempt with jitter (default 250). */
  backoffMs?: number;
  /**
   * Time in ms an attempt may take before it is abandoned and retried (default 60 s). A request the
   * network loses would otherwise hold a device forever; retried uploads are safe (one ticket each).
   */
  attemptTimeoutMs?: number;
  /**
   * A `429` whose `Retry-After` asks for at most this long (ms, default 60 s) is waited out and
   * retried as an attempt; a longer one is thrown as `rate_limited` at once.
   */
  maxRetryAfterMs?: number;
}

/** `Retry-After` in ms: whole seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** Resolves after `ms`, or rejects with the signal's reason once it aborts; leaves no listener behind. */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(timer), reject(signal!.reason));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/**
 * A small HTTP helper shared by the device and owner clients: resolves paths against the control
 * plane's URL, retries network failures and 5xx with exponential back-off and jitter, and turns
 * error bodies into PropiusError with the server's stable code and a request that never got an
 * answer into UnreachableError with its URL.
 */
export class Http {
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly maxRetryAfterMs: number;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.attempts = options.attempts ?? 6;
    this.backoffMs = options.backoffMs ?? 250;
    this.attemptTimeoutMs = options.attemptTimeoutMs ?? 60_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.baseUrl}${path.startsWith("/") ? "" : "/"}${path}`;
  }

  async request(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Response> {
    let lastError: unknown;
    /** The wait a 429 asked for, instead of the back-off before the next attempt. */
    let asked: number | null = null;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) await sleep(asked ?? this.backoffMs * 2 ** (attempt - 1) * (0.5 + Math.random()), signal);
      asked = null;
      const timeout = AbortSignal.timeout(this.attemptTimeoutMs);
      try {
        const response = await this.fetchImpl(this.url(path), { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
        if (response.status === 429 && attempt < this.attempts - 1) {
          // Rate limited: wait as long as the control plane says (plus up to a tenth, so that devices refused together do not return together).
          const wait = retryAfterMs(response.headers.get("retry-after"));
          if (wait !== null && wait <= this.maxRetryAfterMs) {
            lastError = await toError(response);
            asked = wait * (1 + Math.random() / 10);
            continue;
          }
        }
        if (response.status < 500) return response;
        lastError = await toError(response);
      } catch (error) {
        if (signal?.aborted) throw error;
        lastError = UnreachableError.of(this.url(path), error, this.attempts);
      }
    }
    throw lastError;
  }

  /** Sends a request and returns its JSON body, or throws the server's error. */
  async json<T>(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
    const response = await this.request(path, init, signal);
    if (!response.ok) throw await toError(response);
    return (await response.json()) as T;
  }

  /** Sends a request and returns its body as bytes, or throws the server's error. */
  async bytes(path: string, init: RequestInit = {}, signal?: AbortSignal): Promise<Uint8Array> {
    const response = await this.request(path, init, signal);
    if (!response.ok) throw await toError(response);
    return new Uint8Array(await response.arrayBuffer());
  }
}

/** The codes an error answer without a Propius body gets, by HTTP status (a proxy's page, say). */
const CODE_OF_STATUS: Partial<Record<number, ErrorCode>> = {
  401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited",
};

export async function toError(response: Response): Promise<PropiusError> {
  const text = await response.text().catch(() => "");
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return new PropiusError(body.error.code, body.error.message, body.error.details, response.status);
  } catch {
    // not JSON: fall through
  }
  const code: ErrorCode = response.status >= 500 ? "internal" : (CODE_OF_STATUS[response.status] ?? "bad_request");
  return new PropiusError(code, `HTTP ${response.status}: ${text.slice(0, 200)}`, undefined, response.status);
}

export const jsonInit = (method: string, body: unknown, token?: string): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});
