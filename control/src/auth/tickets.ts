import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A training ticket as a signed claim: `tk.<payload>.<signature>`, the payload base64url JSON and
 * the signature HMAC-SHA256 over it with a key derived from the token secret. The aggregator shard
 * that folds the update checks a ticket by itself, so an upload needs no call to the job before its
 * body is read. The job still keeps every ticket's assignment: it counts an update once and frees
 * the slot of a failed task. Node's `createHmac` (nodejs_compat) is used because it is synchronous:
 * the job mints tickets inside its claim transaction.
 */
export interface TicketClaims {
  /** The ticket's id: what the job stores and the shard records a fold under. */
  id: string;
  jobId: string;
  clientId: string;
  round: number;
  attempt: number;
  /** When the device's lease ends (ms since the epoch): a later upload is stale. */
  leaseUntil: number;
  /** The aggregator shard that folds this device's updates. */
  shard: number;
}

export interface Tickets {
  sign(claims: TicketClaims): string;
  /** The claims of a ticket this secret signed, or null when it is malformed or forged. */
  verify(ticket: string): TicketClaims | null;
}

const encoder = new TextEncoder();
const toBase64url = (text: string) => btoa(String.fromCharCode(...encoder.encode(text))).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const fromBase64url = (text: string) => new TextDecoder().decode(Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (ch) => ch.charCodeAt(0)));

export const TICKET_PATTERN = /^tk\.([A-Za-z0-9_-]{16,400})\.([A-Za-z0-9_-]{43})$/;

/** Tickets signed with a key derived from `secret` (never the secret itself, which also signs client tokens). */
export function tickets(secret: string): Tickets {
  const key = createHmac("sha256", secret).update("propius ticket key v1").digest();
  const mac = (payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
  return {
    sign(claims) {
      const payload = toBase64url(JSON.stringify([claims.id, claims.jobId, claims.clientId, claims.round, claims.attempt, claims.leaseUntil, claims.shard]));
      return `tk.${payload}.${mac(payload)}`;
    },
    verify(ticket) {
      const match = TICKET_PATTERN.exec(ticket);
      if (!match) return null;
      const [, payload, signature] = match;
      if (!timingSafeEqual(encoder.encode(mac(payload)), encoder.encode(signature))) return null;
      try {
        const [id, jobId, clientId, round, attempt, leaseUntil, shard] = JSON.parse(fromBase64url(payload)) as unknown[];
        if (typeof id !== "string" || typeof jobId !== "string" || typeof clientId !== "string") return null;
        if (![round, attempt, leaseUntil, shard].every((n) => typeof n === "number" && Number.isSafeInteger(n))) return null;
        return { id, jobId, clientId, round: round as number, attempt: attempt as number, leaseUntil: leaseUntil as number, shard: shard as number };
      } catch {
        return null;
      }
    },
  };
}

/** The shard a ticket names, read without checking its signature: only to route the upload (the shard checks it). */
export function ticketShard(ticket: string): number | null {
  const match = TICKET_PATTERN.exec(ticket);
  if (!match) return null;
  try {
    const shard = (JSON.parse(fromBase64url(match[1])) as unknown[])[6];
    return typeof shard === "number" && Number.isInteger(shard) && shard >= 0 && shard < 64 ? shard : null;
  } catch {
    return null;
  }
}

/** Tickets whose secret is read at first use (a Durable Object is built before any request names it). */
export function lazyTickets(secretOf: () => string): Tickets {
  let signer: Tickets | null = null;
  const get = () => (signer ??= tickets(secretOf()));
  return { sign: (claims) => get().sign(claims), verify: (ticket) => get().verify(ticket) };
}
