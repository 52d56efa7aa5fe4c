import { z } from "zod";
import type { Constraints, JobSpec, ModelDefinition, TrainingPlan } from "./job-spec.js";
import type { ClientTrainConfig } from "./strategies/strategy.js";
import type { InputFormat } from "./input-format.js";

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

/** What a device receives when it is bound to a job for a round. */
export interface Task {
  jobId: string;
  round: number;
  /** The round's attempt: 0, then 1, 2, ... after a deadline that came with too few reports (absent from older servers). */
  attempt?: number;
  ticket: string;
  /** Content address (SHA-256, hex) of the model version to start from. */
  modelHash: string;
  modelUrl: string;
  uploadUrl: string;
  /** Where the device says it cannot do the task (a `TaskFailure`), with the same ticket. */
  failureUrl: string;
  /** train (default): train from the model and upload the delta; evaluate: evaluate the model on held-out examples and post an `EvaluationReport` to `evaluationUrl`. */
  kind?: "train" | "evaluate";
  evaluationUrl?: string;
  model: ModelDefinition;
  plan: TrainingPlan;
  /** Epoch milliseconds after which the update is refused. */
  deadline: number;
  /** What the job's strategy asks of local training this round (FedProx: `proximalMu`). */
  train?: ClientTrainConfig;
  /** The job's input format, when its spec gives one (else `jobInputFormat` derives it from the model). */
  input?: InputFormat;
}

/** A job a device may take if it meets the job's private constraints, which only the device can check. */
export interface JobOffer {
  jobId: string;
  privateConstraints: Constraints;
}

/**
 * A check-in's answer: a task; jobs to choose from (in the scheduler's order: the device accepts the
 * first whose private constraints it meets, or waits `retryAfterMs` if none); or when to come back.
 */
export type CheckInReply =
  | { status: "task"; task: Task }
  | { status: "offer"; offers: JobOffer[]; retryAfterMs: number }
  | { status: "wait"; retryAfterMs: number; reason: string };

/** A ping's answer: how long the registry keeps the device's attributes without another ping or check-in. */
export interface PingReply {
  ok: true;
  ttlMs: number;
}

/** Metadata a device sends in a delta's header `meta`. */
export interface UpdateMeta {
  examples: number;
  trainLoss?: number;
  /** Bytes the device downloaded for this task (0 when the model version was cached). */
  bytesDown?: number;
}

export interface UpdateReceipt {
  accepted: true;
  jobId: string;
  round: number;
  reported: number;
  demand: number;
}

export type JobState = "pending_model" | "running" | "done" | "cancelled" | "failed";

export interface RoundRecord {
  round: number;
  attempt: number;
  /** open: binding and collecting; aggregating: demand met, next model being made; retried: too few reports by the deadline; cancelled: the job was cancelled while it ran. */
  status: "open" | "aggregating" | "closed" | "retried" | "cancelled";
  demand: number;
  bound: number;
  reported: number;
  /** Devices that reported they could not do the task, by failure code. */
  failed: Partial<Record<FailureCode, number>>;
  /** Bound devices whose lease ran out before the round ended, with neither an update nor a failure. */
  timedOut: number;
  examples: number;
  trainLoss: number | null;
  testAccuracy: number | null;
  testLoss: number | null;
  /** Bytes of the accepted updates, and bytes the reporting devices downloaded for the round. */
  bytesIn: number;
  bytesOut: number;
  openedAt: number;
  closedAt: number | null;
  /** Hash of the model the round started from, and of the one it produced. */
  baseModel: string;
  resultModel: string | null;
  /** The devices' evaluation of the round's result, when the job asks for federated evaluation. */
  evaluation?: EvaluationRecord;
}

/** Federated evaluation of the model a round produced, by devices on their held-out examples. */
export interface EvaluationRecord {
  status: "open" | "closed";
  /** The model evaluated: the round's result. */
  model: string;
  demand: number;
  bound: number;
  reported: number;
  failed: Partial<Record<FailureCode, number>>;
  examples: number;
  /** Example-weighted over the reports; null until one arrived. */
  accuracy: number | null;
  loss: number | null;
  openedAt: number;
  closedAt: number | null;
}

export interface JobStatus {
  id: string;
  tenant: string;
  name: string;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  currentRound: number;
  totalRounds: number;
  modelVersion: number;
  modelHash: string | null;
  /** The whole spec the job runs with, every default filled in. */
  spec: JobSpec;
  rounds: RoundRecord[];
  /** Whether the job's rounds can fill: in `GET /v1/jobs/:id` while the job is running, absent otherwise. */
  starvation?: Starvation;
}

/**
 * A running job's supply of devices against what its rounds need: starved when fewer eligible
 * devices were seen within the window than a round attempt needs reports to close.
 */
export interface Starvation {
  starved: boolean;
  /** Devices the client-manager shards heard from within `windowSeconds` that meet the job's public constraints. */
  eligibleDevices: number;
  windowSeconds: number;
  /** The current round's demand, and the reports it needs to close (demand x minReportFraction, rounded up). */
  demand: number;
  minimumReports: number;
  /** Attempts of the current round retried so far (each came to its deadline with too few reports). */
  attemptsRetried: number;
  /** When the latest shard report counted was made (epoch ms; null when no shard has reported recently). */
  measuredAt: number | null;
}
