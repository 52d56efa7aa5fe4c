import { z } from "zod";
import { FAILURE_CODES } from "./protocol.js";
import { jobStateSchema, jobStatusSchema, roundRecordSchema, type JobStatus, type RoundRecord } from "./responses.js";
import { ERROR_STATUS, type ErrorCode } from "./errors.js";

/**
 * Live job events (`GET /v1/jobs/:id/events`, a WebSocket speaking `propius.events.v1`): what a
 * job's object publishes to its owner's subscribers as it happens. Every event carries the job's
 * sequence number `seq` (increasing by one per event while someone listens) and `at`, the job's
 * own clock (ms since the epoch) when it published the event. A subscriber's first message is a
 * `snapshot` (the job status as `GET /v1/jobs/:id` answers it) unless the events it missed could
 * be replayed; then the stream follows.
 */

/** The subprotocol both ends speak; the subscription token rides as a second one, `bearer.<token>`. */
export const EVENTS_PROTOCOL = "propius.events.v1";

/** Keep-alive text frames, answered by the platform without waking the job. */
export const EVENTS_PING = "ping";
export const EVENTS_PONG = "pong";

/** How long a subscription token is valid for opening a connection, in seconds. */
export const EVENTS_TOKEN_SECONDS = 60;

const failureCode = z.enum(FAILURE_CODES);
const errorCode = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]);
const count = z.number().int().min(0);
const nullableNumber = z.number().nullable();
const jobState = jobStateSchema;
// Events check the fields they rely on and pass the rest through, so that a newer server's fields reach older subscribers.
const roundShape = roundRecordSchema.loose();
const roundRecord = z.custom<RoundRecord>((value) => roundShape.safeParse(value).success, "not a round record");
const statusShape = jobStatusSchema.pick({ id: true, state: true, currentRound: true, totalRounds: true }).extend({ rounds: z.array(roundShape) }).loose();
const jobStatus = z.custom<JobStatus>((value) => statusShape.safeParse(value).success, "not a job status");
const base = { seq: count, at: z.number(), jobId: z.string() };

export const jobEventSchema = z.discriminatedUnion("type", [
  /** The job as it stands: first message of a connection whose missed events could not be replayed. */
  z.object({ ...base, type: z.literal("snapshot"), status: jobStatus }),
  z.object({ ...base, type: z.literal("state_changed"), from: jobState, to: jobState }),
  z.object({ ...base, type: z.literal("round_opened"), round: count, attempt: count, demand: count, baseModel: z.string() }),
  /** A device took a slot of the round (devices are not named: `bound` is the round's count after it). */
  z.object({ ...base, type: z.literal("device_bound"), round: count, attempt: count, bound: count, demand: count }),
  z.object({ ...base, type: z.literal("update_accepted"), round: count, attempt: count, reported: count, demand: count }),
  /** An upload the job refused before counting it, with the code the device was answered. */
  z.object({ ...base, type: z.literal("update_refused"), round: count, code: errorCode }),
  /** A device reported it could not do its task (`evaluation`: an evaluation task). */
  z.object({ ...base, type: z.literal("device_failed"), round: count, attempt: count, code: failureCode, evaluation: z.boolean() }),
  /** A round attempt ended without a result (too few reports by its deadline); the next attempt opens. */
  z.object({ ...base, type: z.literal("round_retried"), round: count, attempt: count, reported: count, timedOut: count }),
  /** A round closed with a new model: its record, with loss, timings (openedAt, closedAt) and bytes. */
  z.object({ ...base, type: z.literal("round_closed"), round: count, attempt: count, record: roundRecord }),
  /**
   * An evaluation of a round's result: by the owner (`POST .../rounds/:round/metrics`) or by
   * devices (federated evaluation, when it closes).
   */
  z.object({
    ...base, type: z.literal("evaluation_recorded"), round: count, by: z.enum(["owner", "devices"]),
    accuracy: nullableNumber, loss: nullableNumber, reported: count.optional(),
  }),
]);

export type JobEvent = z.infer<typeof jobEventSchema>;
export type JobEventType = JobEvent["type"];

/** An event before the job numbers and stamps it. */
export type JobEventDraft = JobEvent extends infer E ? (E extends JobEvent ? Omit<E, "seq" | "at" | "jobId"> : never) : never;
