import { z } from "zod";
import { strictObject } from "../strict-object.js";

/**
 * The wire format of a round's secure aggregation between a device and its aggregator shard
 * (docs/secure-aggregation.md). Binary values travel as base64url without padding; a masked
 * input travels as the body of its own request (little-endian 32-bit integers).
 */

const b64 = (bytes: number) =>
  z
    .string()
    .length(Math.ceil((bytes * 4) / 3), `a ${bytes}-byte value as base64url is ${Math.ceil((bytes * 4) / 3)} characters`)
    .regex(/^[A-Za-z0-9_-]+$/, "base64url without padding");
/** A device in its group: 1 to 255. */
const member = z.number().int().min(1).max(255);

/** Uncompressed P-256 public keys. */
export const PUBLIC_KEY_BYTES = 65;
/** A sealed pair of shares: a 12-byte nonce, two 33-byte shares, a 16-byte tag. */
export const SEALED_SHARES_BYTES = 94;
/** One Shamir share of a 32-byte secret. */
export const SHARE_BYTES = 33;

export const secureKeysSchema = strictObject({ maskKey: b64(PUBLIC_KEY_BYTES), shareKey: b64(PUBLIC_KEY_BYTES) });
export const secureJoinedSchema = z.object({ index: member });

export const secureRosterSchema = z.object({
  roster: z.array(z.object({ index: member, maskKey: z.string(), shareKey: z.string() })),
  /** Shares that rebuild a secret. */
  threshold: z.number().int(),
});

export const secureSharesSchema = strictObject({ shares: z.array(strictObject({ to: member, sealed: b64(SEALED_SHARES_BYTES) })).max(255) });
export const secureInboxSchema = z.object({
  /** The devices that shared their keys: the masks of these are in every masked input. */
  sharers: z.array(member),
  shares: z.array(z.object({ from: member, sealed: z.string() })),
});

export const secureUnmaskSchema = z.object({ senders: z.array(member), dropped: z.array(member) });
const shareOf = strictObject({ of: member, share: b64(SHARE_BYTES) });
export const secureRevealSchema = strictObject({ seedShares: z.array(shareOf).max(255), maskKeyShares: z.array(shareOf).max(255) });

/** A phase's answer before it has closed: ask again (a shard holds each ask open a while first). */
export const securePendingSchema = z.object({ status: z.literal("pending"), retryAfterMs: z.number().int().min(0) });

export type SecureKeys = z.output<typeof secureKeysSchema>;
export type SecureRoster = z.output<typeof secureRosterSchema>;
export type SecureShares = z.output<typeof secureSharesSchema>;
export type SecureInbox = z.output<typeof secureInboxSchema>;
export type SecureUnmask = z.output<typeof secureUnmaskSchema>;
export type SecureReveal = z.output<typeof secureRevealSchema>;
export type SecurePending = z.output<typeof securePendingSchema>;

/** The phases a device asks the outcome of, in order. */
export const SECURE_PHASES = ["roster", "shares", "unmask", "receipt"] as const;
export type SecurePhase = (typeof SECURE_PHASES)[number];

export function toBase64Url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): Uint8Array {
  const plain = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(plain, (c) => c.charCodeAt(0));
}
