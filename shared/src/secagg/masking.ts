import { split, combine } from "shamir-secret-sharing";
import { addInto } from "./fixed-point.js";
import { agree, generateKeyPair, importPrivateKey, open, seal, type KeyPair } from "./keys.js";
import { expandSeed } from "./prg.js";

/**
 * Secure aggregation of one group of devices for one round (Bonawitz et al., CCS 2017, the
 * semi-honest protocol): the control plane only ever holds masked inputs and, at the end, their
 * sum. Each device adds to its quantized input a self mask PRG(b_u) and, for each peer v, the
 * pairwise mask PRG(s_uv), added when u < v and subtracted when u > v, so pairwise masks cancel in
 * the sum. Both b_u and the mask key are Shamir-shared among the group (t of n), so the round
 * survives devices that drop out after masking: the survivors reveal their shares of b_u for
 * every device that sent its input, and of the mask key of every one that did not, never both.
 *
 * Devices are numbered 1..n within the group (n at most 255, the share format's limit).
 */

/** What a device advertises at the start: its index and two public keys (masks, shares). */
export interface Advertised {
  index: number;
  maskKey: Uint8Array;
  shareKey: Uint8Array;
}

/** What a device reveals at the end: shares of self-mask seeds and of mask keys, by device index. */
export interface Revealed {
  seedShares: Map<number, Uint8Array>;
  maskKeyShares: Map<number, Uint8Array>;
}

const SECRET_BYTES = 32;
const SHARE_BYTES = SECRET_BYTES + 1;

/** One device's side of a round. */
export class SecAggDevice {
  private seed: Uint8Array | null = null;
  private roster = new Map<number, Advertised>();

  private constructor(
    readonly index: number,
    private readonly context: string,
    private readonly maskKeys: KeyPair,
    private readonly sealingKeys: KeyPair,
  ) {}

  /**
   * A device for the round named by `context` (job, round, attempt), with the key pairs it
   * advertised to be given its index, or fresh ones.
   */
  static async create(index: number, context: string, keys?: { mask: KeyPair; sealing: KeyPair }): Promise<SecAggDevice> {
    if (!Number.isInteger(index) || index < 1 || index > 255) throw new RangeError("a device index is 1 to 255");
    return new SecAggDevice(index, context, keys?.mask ?? (await generateKeyPair()), keys?.sealing ?? (await generateKeyPair()));
  }

  advertise(): Advertised {
    return { index: this.index, maskKey: this.maskKeys.publicKey, shareKey: this.sealingKeys.publicKey };
  }

  /** Shares its self-mask seed and mask key among the group, each share sealed for its peer: by peer index. */
  async shareKeys(roster: Advertised[], threshold: number): Promise<Map<number, Uint8Array>> {
    if (!roster.some((a) => a.index === this.index)) throw new RangeError("the roster lacks this device");
    if (!Number.isInteger(threshold) || threshold < 2 || threshold > roster.length) throw new RangeError(`the threshold must be 2 to ${roster.length}`);
    this.roster = new Map(roster.map((a) => [a.index, a]));
    this.seed = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    const [seedShares, keyShares] = await Promise.all([split(this.seed, roster.length, threshold), split(this.maskKeys.scalar, roster.length, threshold)]);
    const sealed = new Map<number, Uint8Array>();
    for (const [i, peer] of roster.entries()) {
      const payload = new Uint8Array(2 * SHARE_BYTES);
      payload.set(seedShares[i]);
      payload.set(keyShares[i], SHARE_BYTES);
      sealed.set(peer.index, await seal(await this.shareKeyWith(peer), payload, this.shareContext(this.index, peer.index)));
    }
    return sealed;
  }

  /** Its quantized input, masked, for the devices that shared their keys (`sharers`, this one among them). */
  async maskedInput(input: Uint32Array, sharers: number[]): Promise<Uint32Array> {
    if (!this.seed) throw new Error("shareKeys comes before maskedInput");
    const masked = addInto(Uint32Array.from(input), await expandSeed(this.seed, input.length));
    for (const v of sharers) {
      if (v === this.index) continue;
      const peer = this.peer(v);
      const mask = await expandSeed(await agree(this.maskKeys.privateKey, peer.maskKey, `mask ${this.context}`), input.length);
      addInto(masked, mask, this.index < v ? 1 : -1);
    }
    return masked;
  }

  /**
   * Its shares for the unmasking: of the seed of each device whose input came in (`senders`), and
   * of the mask key of each that shared keys and sent nothing (`dropped`). A device asked for both
   * of one device's secrets refuses: that would unmask its input.
   */
  async unmask(sealedForMe: Map<number, Uint8Array>, senders: number[], dropped: number[]): Promise<Revealed> {
    if (senders.some((v) => dropped.includes(v))) throw new Error("a device cannot be both a sender and dropped: revealing both secrets would unmask it");
    const revealed: Revealed = { seedShares: new Map(), maskKeyShares: new Map() };
    for (const v of [...senders, ...dropped]) {
      const sealed = sealedForMe.get(v);
      if (!sealed) continue;
      const payload = await open(await this.shareKeyWith(this.peer(v)), sealed, this.shareContext(v, this.index));
      if (senders.includes(v)) revealed.seedShares.set(v, payload.slice(0, SHARE_BYTES));
      else revealed.maskKeyShares.set(v, payload.slice(SHARE_BYTES));
    }
    return revealed;
  }

  private peer(index: number): Advertised {
    const peer = this.roster.get(index);
    if (!peer) throw new RangeError(`device ${index} is not in the roster`);
    return peer;
  }

  private shareKeyWith(peer: Advertised): Promise<Uint8Array> {
    return agree(this.sealingKeys.privateKey, peer.shareKey, `share ${this.context}`);
  }

  private shareContext(from: number, to: number): string {
    return `${this.context} ${from}->${to}`;
  }
}

/**
 * The control plane's side at the end: the sum of the senders' inputs from the sum of their masked
 * inputs (`maskedSum`: the control plane adds each as it arrives and keeps none apart) and at
 * least `threshold` devices' revealed shares. It learns the sum, and no single input.
 */
export async function unmaskSum(input: {
  context: string;
  roster: Advertised[];
  senders: number[];
  maskedSum: Uint32Array;
  dropped: number[];
  revealed: Revealed[];
  threshold: number;
}): Promise<Uint32Array> {
  const { senders, dropped, revealed, threshold } = input;
  if (revealed.length < threshold) throw new Error(`${revealed.length} devices revealed shares; unmasking needs ${threshold}`);
  const length = input.maskedSum.length;
  const sum = Uint32Array.from(input.maskedSum);
  const roster = new Map(input.roster.map((a) => [a.index, a]));
  for (const u of senders) {
    const seed = await combine(revealed.map((r) => r.seedShares.get(u)).filter((s): s is Uint8Array => s !== undefined).slice(0, threshold));
    addInto(sum, await expandSeed(seed, length), -1);
  }
  for (const d of dropped) {
    const scalar = await combine(revealed.map((r) => r.maskKeyShares.get(d)).filter((s): s is Uint8Array => s !== undefined).slice(0, threshold));
    const key = await importPrivateKey(roster.get(d)!.maskKey, scalar);
    for (const u of senders) {
      // u added +PRG(s_ud) when u < d, and subtracted it when u > d: take that back out.
      const mask = await expandSeed(await agree(key, roster.get(u)!.maskKey, `mask ${input.context}`), length);
      addInto(sum, mask, u < d ? -1 : 1);
    }
  }
  return sum;
}
