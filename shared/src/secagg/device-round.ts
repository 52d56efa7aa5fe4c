import { secureContext, secureInput, type SecureTask } from "./secure-spec.js";
import { fromBase64Url, toBase64Url, type SecureInbox, type SecurePhase, type SecureRoster, type SecureUnmask } from "./secure-wire.js";
import { SecAggDevice } from "./masking.js";
import { generateKeyPair } from "./keys.js";
import { quantize } from "./fixed-point.js";
import type { UpdateReceipt } from "../responses.js";

/** How a device reaches its aggregator shard's group: over HTTP with its task's ticket (see DeviceClient). */
export interface SecureTransport {
  send<T>(step: "keys" | "shares" | "reveal", body: unknown): Promise<T>;
  /** The masked input, as little-endian 32-bit integers. */
  masked(values: Uint32Array): Promise<unknown>;
  /** A phase's outcome, or null while it is pending (the shard holds each ask open a while first). */
  outcome<T>(phase: SecurePhase): Promise<T | null>;
}

/** What a device's part in a secure round cost it, and its receipt. */
export interface SecureRoundResult {
  receipt: UpdateReceipt;
  /** Bytes the device sent: its keys, sealed shares, masked input and revealed shares. */
  bytes: number;
  /** Devices in its group, and how many of them dropped out after sharing their keys. */
  group: number;
  dropped: number;
}

/**
 * A device's side of a round's secure aggregation (docs/secure-aggregation.md), the same in the
 * browser's Web Worker, the Node device and the tests: join the shard's group with two fresh P-256
 * key pairs, share the self-mask seed and the mask key among the roster (each share sealed for its
 * peer), send the weighted delta quantized and masked, then reveal the shares the unmasking
 * needs, and wait for the receipt. The control plane never sees the delta: only the group's sum.
 */
export async function secureRound(
  transport: SecureTransport,
  task: { jobId: string; round: number; attempt?: number; secure: SecureTask },
  update: { delta: Float32Array; examples: number },
  signal?: AbortSignal,
): Promise<SecureRoundResult> {
  let bytes = 0;
  const send = <T>(step: "keys" | "shares" | "reveal", body: unknown) => ((bytes += JSON.stringify(body).length), transport.send<T>(step, body));
  const outcome = async <T>(phase: SecurePhase): Promise<T> => {
    for (;;) {
      signal?.throwIfAborted();
      const answer = await transport.outcome<T>(phase);
      if (answer !== null) return answer;
    }
  };

  const [mask, sealing] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  const { index } = await send<{ index: number }>("keys", { maskKey: toBase64Url(mask.publicKey), shareKey: toBase64Url(sealing.publicKey) });

  const { roster, threshold } = await outcome<SecureRoster>("roster");
  const device = await SecAggDevice.create(index, secureContext(task.jobId, task.round, task.attempt ?? 0), { mask, sealing });
  const sealed = await device.shareKeys(roster.map((m) => ({ index: m.index, maskKey: fromBase64Url(m.maskKey), shareKey: fromBase64Url(m.shareKey) })), threshold);
  await send("shares", { shares: [...sealed].map(([to, s]) => ({ to, sealed: toBase64Url(s) })) });

  const inbox = await outcome<SecureInbox>("shares");
  const values = quantize(secureInput(update.delta, update.examples, task.secure), { range: task.secure.range, maxInputs: roster.length });
  const masked = await device.maskedInput(values, inbox.sharers);
  await transport.masked(masked);
  bytes += masked.byteLength;

  const { senders, dropped } = await outcome<SecureUnmask>("unmask");
  const revealed = await device.unmask(new Map(inbox.shares.map((s) => [s.from, fromBase64Url(s.sealed)])), senders, dropped);
  const list = (shares: Map<number, Uint8Array>) => [...shares].map(([of, share]) => ({ of, share: toBase64Url(share) }));
  await send("reveal", { seedShares: list(revealed.seedShares), maskKeyShares: list(revealed.maskKeyShares) });

  return { receipt: await outcome<UpdateReceipt>("receipt"), bytes, group: roster.length, dropped: dropped.length };
}
