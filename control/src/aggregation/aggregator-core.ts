import { PropiusError, WeightedSum, parameterCount } from "@propius/shared";
import type { AggregatorStore } from "./aggregator-store.js";
import { decodeDelta } from "./delta-input.js";
import { compareKeys, emptyPartial, type Admission, type Folded, type PartialKey, type PartialMeta, type SealedPartial } from "./partial-sum.js";

/**
 * One aggregator shard of a job, free of any platform import: it folds the updates the job has
 * admitted into a weighted partial sum, one round attempt at a time, and hands the sum over when
 * the job seals it. Memory is the sum (cached between updates) plus the update being folded; no
 * update is kept. Every fold is written through the injected store before it is acknowledged.
 *
 * Accepted once: a ticket is folded at most once per key (a repeat returns the first fold's
 * record), and a fold either lands in the sum the job will seal or is refused. Sealing a key the
 * shard has not seen records it too, so no update can slip in after the job has taken the sums.
 */
export class AggregatorCore {
  /** The sum of the stored partial, kept between folds so that a fold does not read it back. */
  private cached: { key: PartialKey; sum: Float32Array } | null = null;

  constructor(private readonly store: AggregatorStore) {}

  /**
   * Checks an update before its body is read: refuses a sealed or superseded key, and returns the
   * record of an earlier fold of the same ticket (a retried upload), else null.
   */
  earlierFold(admission: Admission): Folded | null {
    return this.earlierIn(this.store.loadPartial(), admission);
  }

  /** Folds one update's delta into the partial sum of its key (a repeat returns the first fold's record). */
  fold(admission: Admission, body: Uint8Array): Folded {
    const current = this.store.loadPartial();
    const earlier = this.earlierIn(current, admission);
    if (earlier) return earlier;
    const same = current !== null && compareKeys(current, admission.key) === 0;
    const { values, examples, trainLoss, bytesDown } = decodeDelta(admission.weightSpecs, body);
    const meta = same ? current : emptyPartial(admission.key, parameterCount(admission.weightSpecs));
    const sum = new WeightedSum(meta.length, same ? this.sumOf(meta) : new Float32Array(meta.length), meta.weight, meta.count);
    const folded: Folded = { ticket: admission.ticket, examples, trainLoss: trainLoss ?? null, bytesIn: body.length, bytesDown };
    try {
      sum.add(values, (admission.weighting === "uniform" ? 1 : examples) * admission.weightScale);
      this.store.transaction(() => {
        if (!same) this.store.clear();
        this.store.savePartial({ ...meta, weight: sum.weight, examples: meta.examples + examples, count: sum.count }, sum.sum);
        this.store.saveFolded(folded);
      });
    } catch (error) {
      this.cached = null; // the cached sum may hold part of this fold; read the stored one next time
      throw error;
    }
    this.cached = { key: admission.key, sum: sum.sum };
    return folded;
  }

  /**
   * Seals the key and returns its partial (empty if no update reached this shard): later updates
   * for it are refused as stale. Sealing again returns the same partial.
   */
  seal(key: PartialKey): SealedPartial {
    const current = this.store.loadPartial();
    if (current && compareKeys(current, key) > 0) throw new PropiusError("conflict", `round ${key.round} attempt ${key.attempt} was superseded here`);
    if (current && compareKeys(current, key) === 0) {
      if (!current.sealed) this.store.savePartial({ ...current, sealed: true });
      return { meta: { ...current, sealed: true }, folded: this.store.listFolded() };
    }
    const meta = { ...emptyPartial(key, 0), sealed: true };
    this.store.transaction(() => (this.store.clear(), this.store.savePartial(meta, new Float32Array(0))));
    this.cached = null;
    return { meta, folded: [] };
  }

  /** The updates folded into the partial sum of `key` so far (none if this shard holds another). */
  folded(key: PartialKey): Folded[] {
    const current = this.store.loadPartial();
    return current && compareKeys(current, key) === 0 ? this.store.listFolded() : [];
  }

  /** The sealed sum's bytes (float32, little-endian), in chunks. */
  sumChunks(key: PartialKey): Iterable<Uint8Array> {
    const current = this.store.loadPartial();
    if (!current || compareKeys(current, key) !== 0 || !current.sealed) throw new PropiusError("conflict", `round ${key.round} attempt ${key.attempt} is not sealed here`);
    if (this.cached && compareKeys(this.cached.key, key) === 0) return byteChunks(this.cached.sum);
    return this.store.sumChunks();
  }

  /** Drops the partial of `key` (or an earlier one) once the job has stored the model it produced. */
  release(key: PartialKey): void {
    const current = this.store.loadPartial();
    if (!current || compareKeys(current, key) > 0) return;
    this.store.transaction(() => this.store.clear());
    this.cached = null;
  }

  /** Refuses a sealed or superseded key; returns the ticket's earlier fold into `current`, if any. */
  private earlierIn(current: PartialMeta | null, admission: Admission): Folded | null {
    if (!current) return null;
    const order = compareKeys(admission.key, current);
    if (order < 0 || (order === 0 && current.sealed)) {
      throw new PropiusError("round_closed", `round ${admission.key.round} is closed; the update is stale`);
    }
    return order === 0 ? this.store.loadFolded(admission.ticket) : null;
  }

  private sumOf(meta: PartialMeta): Float32Array {
    if (this.cached && compareKeys(this.cached.key, meta) === 0) return this.cached.sum;
    return this.store.loadSum(meta.length);
  }
}

/** A Float32Array's bytes in 1 MiB views (no copy). */
function* byteChunks(values: Float32Array): Iterable<Uint8Array> {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  for (let offset = 0; offset < bytes.length; offset += 1 << 20) yield bytes.subarray(offset, offset + (1 << 20));
}
