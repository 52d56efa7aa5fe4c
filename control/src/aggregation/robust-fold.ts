import { cappedExamples, clipFactor, estimate, keepsUpdates, l2Norm, scaleInPlace, type Robustness } from "@propius/shared";
import type { AggregatorStore } from "./aggregator-store.js";
import type { DecodedDelta } from "./delta-stream.js";
import type { Folded, PartialMeta } from "./partial-sum.js";

/**
 * The job's defences on one decoded delta, before the shard folds it (docs/robust-aggregation.md):
 * the example claim capped at `maxExamples`; the delta's L2 norm taken over the decoded values
 * (already whole in the shard's scratch buffer, so the body is read once and no second buffer is
 * made: one more pass over the values) and the values scaled down in place to the bound when
 * above it; and, for an estimator that needs every update apart, the clipped values stored under
 * the ticket (only the updates the shard then records as folded are read back at the seal).
 *
 * A delta with a non-finite value has a non-finite norm: it is neither scaled nor stored, and the
 * fold refuses it as before.
 */
export function robustFold(store: AggregatorStore, robustness: Robustness, ticket: string, delta: DecodedDelta, bound: number | null): { examples: number; belowBound: boolean } {
  const examples = cappedExamples(delta.examples, robustness);
  const keeps = keepsUpdates(robustness.estimator);
  if (bound === null && !keeps) return { examples, belowBound: false };
  const norm = l2Norm(delta.values);
  if (!Number.isFinite(norm)) return { examples, belowBound: false };
  if (bound !== null) scaleInPlace(delta.values, clipFactor(norm, bound));
  if (keeps) {
    // The job spec refuses top-k deltas with these estimators; this guards the shard's own invariant.
    if (delta.indices) throw new RangeError("an estimator that keeps updates needs whole deltas");
    store.saveUpdate(ticket, delta.values);
  }
  return { examples, belowBound: bound !== null && norm <= bound };
}

/**
 * At the seal, for an estimator (recorded in the partial's meta by the folds) that needs every update apart: the estimate over the updates the
 * shard folded, as a partial sum the job combines like any other (estimate x count, weight
 * count), or null for the mean. Memory: the updates, count x parameters x 4 bytes (bounded at job
 * creation, see `checkKeptUpdates`), and the estimate.
 */
export function robustSeal(store: AggregatorStore, meta: PartialMeta, folded: Folded[]): { meta: PartialMeta; sum: Float32Array } | null {
  if (!meta.estimator || !keepsUpdates(meta.estimator) || meta.estimated || folded.length === 0) return null;
  const updates = store.loadUpdates(folded.map((f) => f.ticket), meta.length);
  const sum = estimate(meta.estimator, updates);
  for (let i = 0; i < sum.length; i++) sum[i] *= folded.length;
  return { meta: { ...meta, weight: folded.length, count: folded.length, estimated: true }, sum };
}
