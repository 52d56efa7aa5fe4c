import { z } from "zod";
import { inputFormatSchema } from "./input-format.js";
import { constraintsSchema, jobSpecSchema, modelDefinitionSchema, tensorSpecSchema, trainingPlanSchema } from "./job-spec.js";
import { FAILURE_CODES } from "./protocol.js";
import { secureTaskSchema } from "./secagg/secure-spec.js";
import { ERROR_STATUS, type ErrorCode } from "./errors.js";

/**
 * What the API answers, as zod schemas: the control plane's OpenAPI document is generated from
 * them (control/src/http/openapi), and the types the SDKs return are theirs. Answers are
 * described, not checked, on their way out.
 */

const count = z.number().int().min(0);
const epochMs = z.number().describe("ms since the epoch");
const hash = z.string().describe("a model version's content address: SHA-256, 64 lowercase hex digits");

export const jobStateSchema = z.enum(["pending_model", "running", "done", "cancelled", "failed"]);
export const failureCountsSchema = z.partialRecord(z.enum(FAILURE_CODES), count).describe("devices that could not do the task, by failure code");

/** What a round and an evaluation count of their devices: wanted, bound, reported, failed (by code), and the examples reported. */
const deviceCounts = { demand: count, bound: count, reported: count, failed: failureCountsSchema, examples: count };

/** Federated evaluation of the model a round produced, by devices on their held-out examples. */
export const evaluationRecordSchema = z.object({
  status: z.enum(["open", "closed"]),
  /** The model evaluated: the round's result. */
  model: hash,
  ...deviceCounts,
  /** Example-weighted over the reports; null until one arrived. */
  accuracy: z.number().nullable(),
  loss: z.number().nullable(),
  openedAt: epochMs,
  closedAt: epochMs.nullable(),
});

export const roundRecordSchema = z.object({
  round: count,
  attempt: count,
  /** open: binding and collecting; aggregating: demand met, next model being made; retried: too few reports by the deadline; cancelled: the job was cancelled while it ran. */
  status: z.enum(["open", "aggregating", "closed", "retried", "cancelled"]),
  ...deviceCounts,
  /** Bound devices whose lease ran out before the round ended, with neither an update nor a failure. */
  timedOut: count,
  trainLoss: z.number().nullable(),
  testAccuracy: z.number().nullable(),
  testLoss: z.number().nullable(),
  /** Bytes of the accepted updates, and bytes the reporting devices downloaded for the round. */
  bytesIn: count,
  bytesOut: count,
  openedAt: epochMs,
  /** When the attempt had bound its demand (selection done), and when it had the reports to close (training done, aggregation began); null until then, absent from older records. */
  selectedAt: epochMs.nullable().optional(),
  aggregatingAt: epochMs.nullable().optional(),
  closedAt: epochMs.nullable(),
  /** Hash of the model the round started from, and of the one it produced. */
  baseModel: hash,
  resultModel: hash.nullable(),
  /** The devices' evaluation of the round's result, when the job asks for federated evaluation. */
  evaluation: evaluationRecordSchema.optional(),
  /** Jobs that bound update norms: the round's L2 bound, and how many of its updates were within it (the others were clipped to it). */
  clipping: z.object({ bound: z.number(), belowBound: count.nullable(), updates: count }).optional(),
  /** Private jobs: the privacy spent once this round's model is released, as (epsilon, delta) over the job's `releases` rounds so far (RDP accountant, no amplification by sampling). */
  privacy: z.object({ noiseMultiplier: z.number(), delta: z.number(), releases: count, epsilon: z.number() }).optional(),
});

/**
 * A running job's supply of devices against what its rounds need: starved when fewer eligible
 * devices were seen within the window than a round attempt needs reports to close.
 */
export const starvationSchema = z.object({
  starved: z.boolean(),
  /** Devices the client-manager shards heard from within `windowSeconds` that meet the job's public constraints. */
  eligibleDevices: count,
  windowSeconds: z.number(),
  /** The current round's demand, and the reports it needs to close (demand x minReportFraction, rounded up). */
  demand: count,
  minimumReports: count,
  /** Attempts of the current round retried so far (each came to its deadline with too few reports). */
  attemptsRetried: count,
  /** When the latest shard report counted was made (null when no shard has reported recently). */
  measuredAt: epochMs.nullable(),
  /**
   * Whether the scheduler offers the job devices. A round whose attempt was retried is held back,
   * binding no device, while its eligible devices online cannot make its minimum (feasibility-aware
   * admission; see docs/scheduling.md).
   */
  admitted: z.boolean(),
  /** Why it is held back, when it is: `starving: 140 eligible online, needs 240`. */
  reason: z.string().optional(),
});

export const jobStatusSchema = z.object({
  id: z.string(),
  tenant: z.string(),
  name: z.string(),
  state: jobStateSchema,
  createdAt: epochMs,
  updatedAt: epochMs,
  currentRound: count,
  totalRounds: count,
  modelVersion: count,
  modelHash: hash.nullable(),
  /** The whole spec the job runs with, every default filled in. */
  spec: jobSpecSchema,
  rounds: z.array(roundRecordSchema),
  /** Whether the job's rounds can fill: in `GET /v1/jobs/:id` while the job is running, absent otherwise. */
  starvation: starvationSchema.optional(),
  /** Why a failed job failed (its plan's `scarcity.failAfterSeconds` ran out), for a job that did. */
  failure: z.string().optional(),
});

/** One entry of `GET /v1/jobs`: the tenant's jobs, oldest first. */
export const jobSummarySchema = z.object({ id: z.string(), tenant: z.string(), name: z.string(), state: jobStateSchema, createdAt: epochMs });
export const jobListSchema = z.object({ jobs: z.array(jobSummarySchema) });

/** `POST /v1/tenants`: the tenant, whether this call created it, and the new key (shown once). */
export const tenantKeySchema = z.object({ tenant: z.string(), created: z.boolean(), apiKey: z.string() });

/**
 * One of a tenant's API keys as `GET /v1/keys` lists it: its id (the first 12 hex digits of the
 * key's SHA-256, which is all the control plane keeps of it), when it was made and, once revoked, when.
 */
export const apiKeyInfoSchema = z.object({ id: z.string(), createdAt: epochMs, revokedAt: epochMs.nullable() });
export const apiKeyListSchema = z.object({ keys: z.array(apiKeyInfoSchema) });
/** `POST /v1/keys` and `POST /v1/keys/:id/rotate`: the new key, shown this once, and its listing; a rotation names the key it revoked. */
export const newApiKeySchema = z.object({ apiKey: z.string(), key: apiKeyInfoSchema, revoked: apiKeyInfoSchema.optional() });

/** `DELETE /v1/jobs/:id`. */
export const jobDeletedSchema = z.object({ deleted: z.literal(true), id: z.string() });

/**
 * `GET /v1/jobs/:id/model/model.json`: a tfjs layers-model artifact (what `tf.loadLayersModel`
 * reads), with the model version it describes under `propius`.
 */
export const layersModelJsonSchema = z.object({
  format: z.literal("layers-model"),
  generatedBy: z.string(),
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(tensorSpecSchema) })),
  propius: z.object({ version: count, hash }),
});

/** What a device receives when it is bound to a job for a round. */
export const taskSchema = z.object({
  jobId: z.string(),
  round: count,
  /** The round's attempt: 0, then 1, 2, ... after a deadline that came with too few reports (absent from older servers). */
  attempt: count.optional(),
  ticket: z.string(),
  /** Content address (SHA-256, hex) of the model version to start from. */
  modelHash: hash,
  modelUrl: z.string(),
  uploadUrl: z.string(),
  /** Where the device says it cannot do the task (a `TaskFailure`), with the same ticket. */
  failureUrl: z.string(),
  /** train (default): train from the model and upload the delta; evaluate: evaluate the model on held-out examples and post an `EvaluationReport` to `evaluationUrl`. */
  kind: z.enum(["train", "evaluate"]).optional(),
  evaluationUrl: z.string().optional(),
  model: modelDefinitionSchema,
  plan: trainingPlanSchema,
  /** Epoch milliseconds after which the update is refused. */
  deadline: epochMs,
  /** What the job's strategy asks of local training this round (FedProx: `proximalMu`). */
  train: z.object({ proximalMu: z.number().optional() }).optional(),
  /** The job's input format, when its spec gives one (else `jobInputFormat` derives it from the model). */
  input: inputFormatSchema.optional(),
  /** The job aggregates securely: the device masks its update with its group's, at these endpoints (docs/secure-aggregation.md). */
  secure: secureTaskSchema.optional(),
});

/** A job a device may take if it meets the job's private constraints, which only the device can check. */
export const jobOfferSchema = z.object({ jobId: z.string(), privateConstraints: constraintsSchema });

/**
 * A check-in's answer: a task; jobs to choose from (in the scheduler's order: the device accepts the
 * first whose private constraints it meets, or waits `retryAfterMs` if none); or when to come back.
 */
export const checkInReplySchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("task"), task: taskSchema }),
  z.object({ status: z.literal("offer"), offers: z.array(jobOfferSchema), retryAfterMs: count }),
  z.object({ status: z.literal("wait"), retryAfterMs: count, reason: z.string() }),
]);

/** A ping's answer: how long the registry keeps the device's attributes without another ping or check-in. */
export const pingReplySchema = z.object({ ok: z.literal(true), ttlMs: count });

/**
 * `POST /v1/clients`: the new device's id and token (the token is shown once), and when the token
 * expires; `POST /v1/clients/token` answers the same with a new token for the same device.
 */
export const enrolmentSchema = z.object({ clientId: z.string(), token: z.string(), expiresAt: epochMs, protocol: z.number().int() });

/** `POST /v1/admin/devices/:clientId/revoke`: refused from now on, until every token it holds has expired anyway. */
export const deviceRevokedSchema = z.object({ clientId: z.string(), revoked: z.literal(true), until: epochMs, closedConnections: count });

/** An accepted upload: the round's reports so far against its demand. */
export const updateReceiptSchema = z.object({ accepted: z.literal(true), jobId: z.string(), round: count, reported: count, demand: count });

/** A device's failure or evaluation report, recorded. */
export const failureRecordedSchema = z.object({ recorded: z.literal(true), jobId: z.string(), round: count, failed: failureCountsSchema });
export const evaluationRecordedSchema = z.object({ recorded: z.literal(true), jobId: z.string(), round: count, evaluation: evaluationRecordSchema.optional() });

/** `POST /v1/jobs/:id/events/token`'s answer. */
export const eventsTokenSchema = z.object({
  token: z.string(),
  /** When the token stops opening connections; an open connection stays open. */
  expiresAt: epochMs,
  protocol: z.literal("propius.events.v1"),
});

/** Every error answer: a stable code (see docs/api.md), a message for people, and details where they help. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

export const healthSchema = z.object({ ok: z.literal(true), protocol: z.number().int() });

export type JobState = z.output<typeof jobStateSchema>;
export type EvaluationRecord = z.output<typeof evaluationRecordSchema>;
export type RoundRecord = z.output<typeof roundRecordSchema>;
export type Starvation = z.output<typeof starvationSchema>;
export type JobStatus = z.output<typeof jobStatusSchema>;
export type JobSummary = z.output<typeof jobSummarySchema>;
export type TenantKey = z.output<typeof tenantKeySchema>;
export type Enrolment = z.output<typeof enrolmentSchema>;
export type ApiKeyInfo = z.output<typeof apiKeyInfoSchema>;
export type NewApiKey = z.output<typeof newApiKeySchema>;
export type JobDeleted = z.output<typeof jobDeletedSchema>;
export type LayersModelJson = z.output<typeof layersModelJsonSchema>;
export type Task = z.output<typeof taskSchema>;
export type JobOffer = z.output<typeof jobOfferSchema>;
export type CheckInReply = z.output<typeof checkInReplySchema>;
export type PingReply = z.output<typeof pingReplySchema>;
export type UpdateReceipt = z.output<typeof updateReceiptSchema>;
export type EventsToken = z.output<typeof eventsTokenSchema>;
