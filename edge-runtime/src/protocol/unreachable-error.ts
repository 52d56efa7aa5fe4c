/**
 * A request that never got an answer from the control plane (connection refused, host not found,
 * no answer in time) after every attempt: it names the URL asked for, unlike Node's fetch, which
 * says only "fetch failed" and keeps the reason in `cause`. An answer with an error body is a
 * `PropiusError` instead.
 */
export class UnreachableError extends Error {
  /** The full URL of the request, path and query included. */
  readonly url: string;
  /** Why the last attempt failed, in words. */
  readonly reason: string;
  readonly attempts: number;

  constructor(url: string, reason: string, attempts: number, cause?: unknown) {
    super(`could not reach the control plane at ${url} (${reason}; ${attempts} attempt${attempts === 1 ? "" : "s"})`, { cause });
    this.name = "UnreachableError";
    this.url = url;
    this.reason = reason;
    this.attempts = attempts;
  }

  /** The error for a failed fetch of `url`, its reason taken from the error's cause where Node keeps it. */
  static of(url: string, error: unknown, attempts: number): UnreachableError {
    if (!(error instanceof Error)) return new UnreachableError(url, String(error), attempts, error);
    const cause = error.cause instanceof Error ? error.cause : null;
    const code = (cause as { code?: string } | null)?.code;
    const reason =
      error.name === "TimeoutError" ? "no answer in time"
      : code === "ECONNREFUSED" ? "connection refused: is the control plane running at that address?"
      : code === "ENOTFOUND" ? "host not found"
      : (cause?.message ?? error.message);
    return new UnreachableError(url, reason, attempts, error);
  }
}
