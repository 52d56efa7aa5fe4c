import type { Folded, PartialMeta } from "./partial-sum.js";

/**
 * Durable storage of one aggregator shard: one partial sum at a time, with the tickets folded into
 * it. SQLite inside the Durable Object, memory in unit tests. `transaction` makes writes atomic.
 */
export interface AggregatorStore {
  loadPartial(): PartialMeta | null;
  /** The stored sum's values, `length` of them. */
  loadSum(length: number): Float32Array;
  /** The stored sum's bytes, 1 MiB at a time, for streaming it out without a second copy. */
  sumChunks(): Iterable<Uint8Array>;
  /** Saves the partial's metadata, and its values when given. */
  savePartial(meta: PartialMeta, sum?: Float32Array): void;
  loadFolded(ticket: string): Folded | null;
  listFolded(): Folded[];
  saveFolded(folded: Folded): void;
  /** Drops the partial sum and its tickets (not the spent ones: a ticket stays spent until its lease ends). */
  clear(): void;
  /**
   * Estimators that need every update apart (median, trimmed mean, Krum): one update's values, by
   * its ticket, kept until `clearUpdates`; `loadUpdates` gives those of `tickets`, in that order.
   */
  saveUpdate(ticket: string, values: Float32Array): void;
  loadUpdates(tickets: string[], length: number): Float32Array[];
  clearUpdates(): void;
  /** Marks a ticket spent by a refused upload until `until` (its lease's end); spent tickets past theirs are forgotten. */
  spend(ticket: string, until: number, now: number): void;
  isSpent(ticket: string): boolean;
  transaction<T>(fn: () => T): T;
}

/** An AggregatorStore in memory; copies in and out, and rolls back failed transactions. */
export class MemoryAggregatorStore implements AggregatorStore {
  private meta: PartialMeta | null = null;
  private sum = new Float32Array(0);
  private folded = new Map<string, Folded>();
  private updates = new Map<string, Float32Array>();
  private spent = new Map<string, number>();
  /** Full writes of the sum so far (tests check that a refused update writes nothing). */
  sumWrites = 0;

  loadPartial() {
    return this.meta && { ...this.meta };
  }
  loadSum(length: number) {
    if (this.sum.length !== length) throw new Error(`stored sum has ${this.sum.length} values, expected ${length}`);
    return this.sum.slice();
  }
  *sumChunks() {
    const bytes = new Uint8Array(this.sum.buffer);
    for (let offset = 0; offset < bytes.length; offset += 1 << 20) yield bytes.slice(offset, offset + (1 << 20));
  }
  savePartial(meta: PartialMeta, sum?: Float32Array) {
    this.meta = { ...meta };
    if (sum) {
      this.sum = sum.slice();
      this.sumWrites += 1;
    }
  }
  loadFolded(ticket: string) {
    const f = this.folded.get(ticket);
    return f ? { ...f } : null;
  }
  listFolded() {
    return [...this.folded.values()].map((f) => ({ ...f }));
  }
  saveFolded(folded: Folded) {
    this.folded.set(folded.ticket, { ...folded });
  }
  clear() {
    this.meta = null;
    this.sum = new Float32Array(0);
    this.folded.clear();
  }
  saveUpdate(ticket: string, values: Float32Array) {
    this.updates.set(ticket, values.slice());
  }
  loadUpdates(tickets: string[], length: number) {
    return tickets.map((t) => {
      const u = this.updates.get(t);
      if (!u || u.length !== length) throw new Error(`no stored update of ${length} values for ticket ${t}`);
      return u.slice();
    });
  }
  clearUpdates() {
    this.updates.clear();
  }
  spend(ticket: string, until: number, now: number) {
    for (const [t, u] of this.spent) if (u < now) this.spent.delete(t);
    this.spent.set(ticket, until);
  }
  isSpent(ticket: string) {
    return this.spent.has(ticket);
  }
  transaction<T>(fn: () => T): T {
    const snapshot = { meta: this.meta, sum: this.sum, folded: new Map(this.folded), updates: new Map(this.updates), sumWrites: this.sumWrites };
    try {
      return fn();
    } catch (error) {
      Object.assign(this, snapshot);
      throw error;
    }
  }
}
