import { z } from "zod";

export const PROTOCOL_VERSION = 1;
/** The media type of a weights or delta message (see weights-format.ts). */
export const WEIGHTS_MEDIA_TYPE = "application/vnd.propius.weights";
export const TICKET_HEADER = "propius-ticket";

/** Attributes a device reports at check-in. Numbers and short strings only. */
export const attributesSchema = z
  .record(z.string().min(1).max(64), z.union([z.number().finite(), z.string().max(128), z.boolean()]))
  .refine((a) => Object.keys(a).length <= 64, { message: "at most 64 attributes" })
  .default({});

export const registerClientSchema = z.object({
  attributes: attributesSchema,
  /** An enrolment token (`et_...`) from a job's owner: the device may then take that owner's jobs that ask for one. */
  enrolmentToken: z.string().regex(/^et_[A-Za-z0-9_-]{16,64}$/).optional(),
});

/** The shape of a job id (`job_` and 8 to 64 URL-safe characters). */
export const JOB_ID_PATTERN = /^job_[A-Za-z0-9_-]{8,64}$/;

export const checkInSchema = z.object({
  attributes: attributesSchema,
  /** A job from an offer whose private constraints the device meets: bind to it if it still has room. */
  accept: z.string().regex(JOB_ID_PATTERN, "a job id").optional(),
});

export const pingSchema = z.object({
  attributes: attributesSchema.optional(),
});

export const roundMetricsSchema = z.object({
  testAccuracy: z.number().min(0).max(1).optional(),
  testLoss: z.number().finite().min(0).optional(),
});

/**
 * Why a device could not do a task, reported instead of an update so that the job frees its slot
 * at once: a kernel its training backend lacks, data that does not fit the job's input, memory
 * that ran out, or any other error while training or evaluating.
 */
export const FAILURE_CODES = ["missing_kernel", "data_mismatch", "out_of_memory", "training_error"] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];
/** Failures that the same device would meet again on the same job: the job does not bind it again. */
export const LASTING_FAILURES: readonly FailureCode[] = ["missing_kernel", "data_mismatch"];

export const taskFailureSchema = z.strictObject({
  code: z.enum(FAILURE_CODES, { error: `code must be one of ${FAILURE_CODES.join(", ")}` }),
  message: z.string().max(2000).default(""),
});
export type TaskFailure = z.output<typeof taskFailureSchema>;

/** A device's evaluation of a job's model on the examples it held out from training. */
export const evaluationReportSchema = z.strictObject({
  examples: z.number().int().min(1).max(1_000_000_000),
  /** Mean loss over those examples. */
  loss: z.number().finite().min(0),
  /** Fraction of those examples classified right. */
  accuracy: z.number().min(0).max(1),
});
export type EvaluationReport = z.output<typeof evaluationReportSchema>;

export const createTenantSchema = z.object({
  name: z.string().min(1).max(100).regex(/^[a-z0-9][a-z0-9-]*$/, "lowercase letters, digits and dashes"),
});

export type Attributes = z.output<typeof attributesSchema>;

/** Metadata a device sends in a delta's header `meta`. */
export interface UpdateMeta {
  examples: number;
  trainLoss?: number;
  /** Bytes the device downloaded for this task (0 when the model version was cached). */
  bytesDown?: number;
}
