import { PropiusError, sameManifest, type TensorSpec, type WeightsHeader } from "@propius/shared";

/** What an update's header says of its training: examples (its weight), train loss and bytes downloaded. */
export interface DeltaMeta {
  examples: number;
  trainLoss: number | undefined;
  bytesDown: number;
}

/**
 * Checks an uploaded delta's header against the job's tensors before any value is read: a delta
 * (not a model), the job's manifest, and its metadata (example count, train loss, bytes
 * downloaded). Every refusal is `invalid_update`.
 */
export function checkDeltaHeader(weightSpecs: TensorSpec[], header: WeightsHeader): DeltaMeta {
  if (header.kind !== "delta") throw new PropiusError("invalid_update", "expected a delta, got a full model");
  if (!sameManifest(header.tensors, weightSpecs)) {
    throw new PropiusError("invalid_update", "the delta's tensors do not match the job's model", { expected: weightSpecs.map((t) => `${t.name}${JSON.stringify(t.shape)}`) });
  }
  const examples = header.meta?.examples;
  if (typeof examples !== "number" || !Number.isInteger(examples) || examples < 1 || examples > 1e9) {
    throw new PropiusError("invalid_update", "meta.examples must be a positive integer");
  }
  const trainLoss = header.meta?.trainLoss;
  if (trainLoss !== undefined && (typeof trainLoss !== "number" || !Number.isFinite(trainLoss) || trainLoss < 0)) {
    throw new PropiusError("invalid_update", "meta.trainLoss must be a finite, non-negative number");
  }
  const bytesDown = header.meta?.bytesDown ?? 0;
  if (typeof bytesDown !== "number" || !Number.isInteger(bytesDown) || bytesDown < 0) {
    throw new PropiusError("invalid_update", "meta.bytesDown must be a non-negative integer");
  }
  return { examples, trainLoss: trainLoss as number | undefined, bytesDown };
}
