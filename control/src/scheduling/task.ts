import { createStrategy, robustnessOf, type JobSpec, type SecureTask, type Task } from "@propius/shared";
import type { ClaimResult } from "../job/job-core.js";

/** The task a device receives for a slot its job granted. */
export function toTask(jobId: string, claim: Extract<ClaimResult, { kind: "task" }>): Task {
  return {
    jobId,
    round: claim.round,
    attempt: claim.attempt,
    ticket: claim.ticket,
    modelHash: claim.modelHash,
    modelUrl: `/v1/models/${claim.modelHash}`,
    uploadUrl: `/v1/jobs/${jobId}/rounds/${claim.round}/updates`,
    failureUrl: `/v1/jobs/${jobId}/rounds/${claim.round}/failures`,
    ...(claim.evaluate ? { kind: "evaluate" as const, evaluationUrl: `/v1/jobs/${jobId}/rounds/${claim.round}/evaluations` } : {}),
    model: claim.spec.model,
    plan: claim.spec.plan,
    deadline: claim.deadline,
    train: createStrategy(claim.spec.aggregation).configureTrain(claim.round),
    ...(claim.spec.input ? { input: claim.spec.input } : {}),
    ...(claim.spec.secureAggregation && !claim.evaluate ? { secure: secureTask(jobId, claim.round, claim.spec) } : {}),
  };
}

/** What a device of a job with secure aggregation needs to mask its update (docs/secure-aggregation.md). */
function secureTask(jobId: string, round: number, spec: JobSpec): SecureTask {
  const robustness = robustnessOf(spec);
  const clipping = robustness.clipping;
  return {
    url: `/v1/jobs/${jobId}/rounds/${round}/secure`,
    range: spec.secureAggregation!.range,
    weighting: spec.aggregation.weighting,
    maxExamples: robustness.maxExamples,
    ...(clipping?.mode === "fixed" ? { clipNorm: clipping.norm } : {}),
  };
}
