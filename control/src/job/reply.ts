import { PropiusError, type ErrorBody } from "@propius/shared";

/**
 * What a Durable Object method returns across RPC: content or an error with a stable code.
 * (Thrown errors lose their code and status on the way through RPC; a reply keeps them.)
 */
export type Reply<T> = { ok: true; value: T } | ({ ok: false } & ErrorBody);

export async function reply<T>(fn: () => T | Promise<T>): Promise<Reply<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (error instanceof PropiusError) return { ok: false, ...error.toBody() };
    throw error;
  }
}

/** Unwraps a reply on the calling side, rethrowing its error as a PropiusError. */
export async function unwrap<T>(pending: Promise<Reply<T>> | Reply<T>): Promise<T> {
  const result = await pending;
  if (result.ok) return result.value;
  throw new PropiusError(result.error.code, result.error.message, result.error.details);
}
