import {
  MAX_SECURE_GROUP,
  MIN_SECURE_GROUP,
  PropiusError,
  fromBase64Url,
  thresholdFor,
  type SecureAggregation,
  type SecureInbox,
  type SecureKeys,
  type SecurePhase,
  type SecureReveal,
  type SecureRoster,
  type SecureShares,
  type SecureUnmask,
  type UpdateReceipt,
} from "@propius/shared";
import { addInto, dequantizeSum, isPublicKey, unmaskSum, type Revealed } from "@propius/shared/secagg";
import type { Reply } from "../job/reply.js";
import type { PartialKey } from "./partial-sum.js";
import type { SecureBound } from "./shard-ports.js";

/** A device of the group, as its verified ticket names it. */
export interface Member {
  ticket: string;
  clientId: string;
}

/** What a group's unmasked sum becomes: the shard's partial sum for its key, counted at the job. */
export interface UnmaskedSum {
  /** The senders' masked inputs summed, unmasked and decoded: P deltas' values, then the weight. */
  decoded: Float32Array;
  senders: Member[];
  bytesIn: number;
}

/** What a group reaches outside itself. */
export interface SecureGroupPorts {
  /** The devices the job has bound to this shard in the attempt, and whether it may still bind more. */
  bound(key: PartialKey): Promise<SecureBound>;
  /** Folds the group's sum into the shard and counts its senders at the job: one receipt per sender, in order. */
  commit(key: PartialKey, sum: UnmaskedSum): Promise<Reply<UpdateReceipt>[]>;
  now(): number;
}

type Phase = "keys" | "shares" | "masked" | "unmask" | "done" | "failed";

interface Joined extends Member {
  index: number;
  keys: SecureKeys;
}

/** How long a device's ask for a phase's outcome is held open before it is told to ask again. */
export const HOLD_MS = 10_000;

/**
 * One round attempt's secure aggregation among one shard's devices (docs/secure-aggregation.md),
 * free of any platform import. It relays what the protocol relays (public keys, sealed shares,
 * the senders and the dropped) and holds only the sum of the masked inputs, never one of them.
 *
 * Each phase closes once every device expected has acted, or at its deadline (`phaseSeconds`
 * after the phase opened; the first phase opens with the first device's keys): keys (closes when
 * every device the job bound to this shard has joined, and the job binds no more or the group
 * holds the shard's share of the demand), shares, masked inputs, unmasking (closes at the
 * threshold's reveals). A phase that closes with too few devices ends
 * the group: its devices are told `secure_group_failed`, and the job retries the attempt at its
 * deadline as it does any attempt with too few reports. The group lives in memory: a shard that
 * restarts mid-group ends it the same way (nothing was acknowledged as counted).
 */
export class SecureGroup {
  private phase: Phase = "keys";
  private deadline: number;
  private readonly joined = new Map<string, Joined>();
  private roster: Joined[] = [];
  private threshold = 0;
  private readonly sealed = new Map<number, Map<number, string>>();
  private sharers: number[] = [];
  private readonly masked = new Set<number>();
  private maskedSum: Uint32Array;
  private bytesIn = 0;
  private senders: number[] = [];
  private readonly reveals = new Map<number, Revealed>();
  private receipts = new Map<string, Reply<UpdateReceipt>>();
  private failure: PropiusError | null = null;
  private waiters = new Set<() => void>();
  private boundCache: { at: number; value: Promise<SecureBound> } | null = null;
  private unmasking: Promise<void> | null = null;

  constructor(
    readonly key: PartialKey,
    private readonly context: string,
    private readonly settings: SecureAggregation,
    /** Values a masked input holds: the model's parameters and the weight. */
    readonly length: number,
    private readonly ports: SecureGroupPorts,
  ) {
    this.deadline = ports.now() + this.phaseMs;
    this.maskedSum = new Uint32Array(length);
  }

  private get phaseMs(): number {
    return this.settings.phaseSeconds * 1000;
  }

  /** The device's keys: its index in the group (the same one if it joins again). */
  async join(member: Member, keys: SecureKeys): Promise<{ index: number }> {
    if (!this.joined.has(member.ticket)) {
      // A key that is not a point of P-256 would make every other device's key agreement fail.
      if (!(await isPublicKey(bytesOf(keys.maskKey))) || !(await isPublicKey(bytesOf(keys.shareKey)))) {
        throw new PropiusError("validation_failed", "maskKey and shareKey must be P-256 public keys, uncompressed (65 bytes), as base64url");
      }
      await this.advance();
    }
    // Nothing is awaited from here on: the checks and the join are one step.
    const known = this.joined.get(member.ticket);
    if (known) return { index: known.index };
    if (this.phase !== "keys") throw this.closed("its group's roster is closed");
    if (this.joined.size >= MAX_SECURE_GROUP) throw this.closed(`its group is full (${MAX_SECURE_GROUP} devices)`);
    const index = this.joined.size + 1;
    this.joined.set(member.ticket, { ...member, index, keys });
    this.notify();
    return { index };
  }

  /** Its sealed shares for each device of the roster (itself too). */
  async share(member: Member, body: SecureShares): Promise<{ accepted: true }> {
    const me = this.memberOf(member, this.roster, "it is not in its group's roster");
    await this.advance();
    if (this.sealed.has(me.index)) return { accepted: true };
    if (this.phase !== "shares") throw this.closed("its group's shares phase is closed");
    const to = new Map(body.shares.map((s) => [s.to, s.sealed]));
    if (to.size !== body.shares.length || to.size !== this.roster.length || this.roster.some((m) => !to.has(m.index))) {
      throw new PropiusError("validation_failed", `give one sealed share for each of the roster's ${this.roster.length} devices, no more`);
    }
    this.sealed.set(me.index, to);
    this.notify();
    return { accepted: true };
  }

  /** Its masked input: added to the group's sum in the ring, never kept apart. */
  async mask(member: Member, values: Uint32Array): Promise<{ accepted: true; bytes: number }> {
    const me = this.memberOf(member, this.roster, "it is not in its group's roster");
    await this.advance();
    if (this.masked.has(me.index)) return { accepted: true, bytes: values.byteLength };
    if (this.phase !== "masked" || !this.sharers.includes(me.index)) throw this.closed("its group's masking phase is closed to it");
    if (values.length !== this.length) throw new PropiusError("invalid_update", `a masked input holds ${this.length} values (${4 * this.length} bytes); this one holds ${values.length}`);
    addInto(this.maskedSum, values);
    this.masked.add(me.index);
    this.bytesIn += values.byteLength;
    this.notify();
    return { accepted: true, bytes: values.byteLength };
  }

  /** Its shares of the senders' seeds and the dropped devices' mask keys, as the unmask phase named them. */
  async reveal(member: Member, body: SecureReveal): Promise<{ accepted: true }> {
    const me = this.memberOf(member, this.roster, "it is not in its group's roster");
    await this.advance();
    if (this.reveals.has(me.index) || this.phase === "done") return { accepted: true };
    if (this.phase !== "unmask" || !this.senders.includes(me.index)) throw this.closed("its group's unmasking phase is closed to it");
    const dropped = this.dropped();
    const seeds = new Map(body.seedShares.map((s) => [s.of, fromBase64Url(s.share)]));
    const keys = new Map(body.maskKeyShares.map((s) => [s.of, fromBase64Url(s.share)]));
    if (seeds.size !== body.seedShares.length || [...seeds.keys()].some((v) => !this.senders.includes(v)) || this.senders.some((v) => this.sealed.get(v)?.has(me.index) && !seeds.has(v))) {
      throw new PropiusError("validation_failed", "give one share of each sender's seed, for the senders named");
    }
    if (keys.size !== body.maskKeyShares.length || [...keys.keys()].some((v) => !dropped.includes(v)) || dropped.some((v) => !keys.has(v))) {
      throw new PropiusError("validation_failed", "give one share of each dropped device's mask key, for the dropped devices named");
    }
    this.reveals.set(me.index, { seedShares: seeds, maskKeyShares: keys });
    this.notify();
    if (this.reveals.size >= this.threshold) await this.unmask();
    return { accepted: true };
  }

  /**
   * The outcome of `phase` for this device once the phase has closed, else null after holding the
   * ask open for at most `holdMs` (or until the phase's deadline passes).
   */
  async outcome(member: Member, phase: SecurePhase, holdMs = HOLD_MS): Promise<SecureRoster | SecureInbox | SecureUnmask | UpdateReceipt | null> {
    const me = this.memberOf(member, [...this.joined.values()], "it has not joined its group");
    const until = this.ports.now() + holdMs;
    for (;;) {
      await this.advance();
      const answer = this.answer(me, phase);
      if (answer) return answer;
      const now = this.ports.now();
      if (now >= until) return null;
      // Until the next change, the phase's deadline or the hold's end (a deadline passed waits on a pending unmasking).
      const left = this.deadline > now ? Math.min(until, this.deadline) - now : Math.min(250, until - now);
      await this.changeOr(Math.max(1, left));
    }
  }

  /** Ends the group (a newer attempt, a seal): devices still in it are told so. */
  end(reason: string): void {
    if (this.phase === "done" || this.phase === "failed") return;
    this.fail(reason);
  }

  private answer(me: Joined, phase: SecurePhase): SecureRoster | SecureInbox | SecureUnmask | UpdateReceipt | null {
    const order: Phase[] = ["keys", "shares", "masked", "unmask", "done"];
    const reached = (p: Phase) => this.phase !== "failed" && order.indexOf(this.phase) >= order.indexOf(p);
    const inRoster = this.roster.includes(me);
    if (phase === "roster" && reached("shares")) {
      if (!inRoster) throw this.closed("its group's roster closed without it");
      return { roster: this.roster.map((m) => ({ index: m.index, maskKey: m.keys.maskKey, shareKey: m.keys.shareKey })), threshold: this.threshold };
    }
    if (phase === "shares" && reached("masked")) {
      if (!this.sharers.includes(me.index)) throw this.closed("its group's shares phase closed without its shares");
      const shares = this.sharers.map((from) => ({ from, sealed: this.sealed.get(from)!.get(me.index)! }));
      return { sharers: this.sharers, shares };
    }
    if (phase === "unmask" && reached("unmask")) {
      if (!this.senders.includes(me.index)) throw this.closed("its group's masking phase closed without its masked input");
      return { senders: this.senders, dropped: this.dropped() };
    }
    if (phase === "receipt" && this.phase === "done") {
      const receipt = this.receipts.get(me.ticket);
      if (!receipt) throw this.closed("its masked input is not in its group's sum");
      if (receipt.ok) return receipt.value;
      throw new PropiusError(receipt.error.code, receipt.error.message, receipt.error.details);
    }
    if (this.failure) throw this.failure;
    return null;
  }

  /** Closes phases whose devices have all acted or whose deadline has passed. */
  private async advance(): Promise<void> {
    const now = this.ports.now();
    if (this.phase === "keys") {
      const bound = await this.boundNow();
      if (this.phase !== "keys") return;
      const n = this.joined.size;
      const everyone = n >= bound.devices && n >= MIN_SECURE_GROUP && (!bound.selecting || n >= bound.wanted);
      if (!everyone && now < this.deadline) return;
      if (this.joined.size < MIN_SECURE_GROUP) return this.fail(`${this.joined.size} devices joined the group by its deadline; secure aggregation needs ${MIN_SECURE_GROUP}`);
      this.roster = [...this.joined.values()];
      this.threshold = thresholdFor(this.roster.length, this.settings.threshold);
      this.open("shares");
    }
    if (this.phase === "shares") {
      if (this.sealed.size < this.roster.length && now < this.deadline) return;
      this.sharers = this.roster.map((m) => m.index).filter((i) => this.sealed.has(i));
      if (this.sharers.length < this.threshold) return this.fail(`${this.sharers.length} devices shared their keys; unmasking needs ${this.threshold}`);
      this.open("masked");
    }
    if (this.phase === "masked") {
      if (this.masked.size < this.sharers.length && now < this.deadline) return;
      this.senders = this.sharers.filter((i) => this.masked.has(i));
      if (this.senders.length < this.threshold) return this.fail(`${this.senders.length} devices sent their masked input; unmasking needs ${this.threshold}`);
      this.open("unmask");
    }
    if (this.phase === "unmask" && now >= this.deadline && !this.unmasking) {
      this.fail(`${this.reveals.size} devices revealed their shares by the deadline; unmasking needs ${this.threshold}`);
    }
  }

  /** Rebuilds the senders' self masks and the dropped devices' pairwise masks, and commits the sum (once). */
  private unmask(): Promise<void> {
    this.unmasking ??= (async () => {
      try {
        const roster = this.roster.map((m) => ({ index: m.index, maskKey: fromBase64Url(m.keys.maskKey), shareKey: fromBase64Url(m.keys.shareKey) }));
        const sum = await unmaskSum({ context: this.context, roster, senders: this.senders, maskedSum: this.maskedSum, dropped: this.dropped(), revealed: [...this.reveals.values()], threshold: this.threshold });
        const decoded = dequantizeSum(sum, this.senders.length, { range: this.settings.range, maxInputs: this.roster.length });
        const senders = this.senders.map((i) => this.roster.find((m) => m.index === i)!);
        const answers = await this.ports.commit(this.key, { decoded, senders, bytesIn: this.bytesIn });
        this.receipts = new Map(senders.map((m, i) => [m.ticket, answers[i]]));
        this.phase = "done";
        this.notify();
      } catch (error) {
        this.fail(error instanceof PropiusError ? error.message : `unmasking failed: ${String(error)}`, error instanceof PropiusError ? error : undefined);
      }
    })();
    return this.unmasking;
  }

  private dropped(): number[] {
    return this.sharers.filter((i) => !this.senders.includes(i));
  }

  private open(phase: Phase): void {
    this.phase = phase;
    this.deadline = this.ports.now() + this.phaseMs;
    this.notify();
  }

  private fail(message: string, error?: PropiusError): void {
    this.phase = "failed";
    this.failure = error ?? new PropiusError("secure_group_failed", `round ${this.key.round} attempt ${this.key.attempt}: ${message}`);
    this.maskedSum = new Uint32Array(0);
    this.notify();
  }

  private closed(why: string): PropiusError {
    if (this.failure) return this.failure;
    return new PropiusError("secure_phase_closed", `round ${this.key.round} attempt ${this.key.attempt}: this device cannot go on, ${why}`);
  }

  private memberOf(member: Member, among: Joined[], why: string): Joined {
    const found = this.joined.get(member.ticket);
    if (!found || found.clientId !== member.clientId || !among.includes(found)) throw this.closed(why);
    return found;
  }

  /** The job's count, asked at most every half second. */
  private boundNow(): Promise<SecureBound> {
    const now = this.ports.now();
    if (!this.boundCache || now - this.boundCache.at > 500) {
      const value = this.ports.bound(this.key).catch(() => ({ devices: Number.POSITIVE_INFINITY, selecting: true, wanted: Number.POSITIVE_INFINITY }));
      this.boundCache = { at: now, value };
    }
    return this.boundCache.value;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves at the next change to the group, or after `ms`. */
  private changeOr(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => (this.waiters.delete(wake), resolve()), ms);
      const wake = () => (clearTimeout(timer), resolve());
      this.waiters.add(wake);
    });
  }
}

/** base64url's bytes, or none for text that is not base64url. */
function bytesOf(text: string): Uint8Array {
  try {
    return fromBase64Url(text);
  } catch {
    return new Uint8Array(0);
  }
}
