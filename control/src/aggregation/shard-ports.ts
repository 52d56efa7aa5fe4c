import type { Robustness, SecureAggregation, TensorSpec, UpdateReceipt, Weighting } from "@propius/shared";
import type { Reply } from "../job/reply.js";
import type { Admission, Folded, PartialKey } from "./partial-sum.js";

/** What an aggregator shard learns of its job once, and caches: enough to check and weigh an update by itself. */
export interface JobDescription {
  jobId: string;
  weightSpecs: TensorSpec[];
  weighting: Weighting;
  /** Asynchronous (FedBuff): the job's current server step and the staleness discount come from the job. */
  buffered: boolean;
  /** The cap on an update's example claim, the norm bound, the estimator (docs/robust-aggregation.md). */
  robustness: Robustness;
  /** The job's secure aggregation, or null: its devices then mask their updates with their shard's group. */
  secure?: SecureAggregation | null;
}

/** One folded update as the shard reports it to the job: the job counts it once and answers its receipt. */
export interface FoldRecord {
  clientId: string;
  key: PartialKey;
  folded: Folded;
  /** The shard had folded this ticket before (a retried upload): counted already, it is `ticket_used`. */
  repeat: boolean;
}

/** The job's answer to a group: one per update, and whether the group's round attempt stopped taking updates (its demand is met). */
export interface CommittedGroup {
  answers: Reply<UpdateReceipt>[];
  closed: boolean;
}

/** The job as an aggregator shard calls it: over RPC in the Durable Object, directly in tests. */
export interface JobPort {
  describe(jobId: string): Promise<JobDescription>;
  /** Buffered jobs only: the job's leave to fold into its current step, with the staleness discount. */
  admit(jobId: string, input: { ticket: string; clientId: string; round: number }): Promise<Admission>;
  /** Counts a group of folded updates, written to the shard's storage in one write: one answer each. */
  commitFolds(jobId: string, records: FoldRecord[]): Promise<CommittedGroup>;
  /** Jobs with an adaptive norm bound: the bound for the round attempt `key` (it moves between rounds, never within one). */
  clipBound(jobId: string, key: PartialKey): Promise<number>;
  /** Secure aggregation: the devices the job bound to this shard in the attempt, and whether it binds more. */
  secureBound(jobId: string, key: PartialKey, shard: number): Promise<SecureBound>;
}

/** A round attempt's devices at one shard, as a secure group asks the job (see JobCore.secureBound). */
export interface SecureBound {
  /** Devices holding a slot of the attempt whose updates this shard folds. */
  devices: number;
  /** The job may still bind devices to the attempt. */
  selecting: boolean;
  /** The shard's share of the round's demand. */
  wanted: number;
}

export type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * A body the platform can read whole at once far more cheaply than chunk by chunk (a request
 * stream: under `wrangler dev` its chunks are 4 KiB): its declared size, and both ways to read it.
 */
export interface StreamedBody {
  /** From the request's Content-Length (checked against the upload limit); null when not given. */
  declaredBytes: number | null;
  whole(): Promise<Uint8Array>;
  chunks(): AsyncIterable<Uint8Array>;
}

/** An upload as the Worker hands it to the shard: the task's ticket, the device, and the body as it arrives. */
export interface Upload<Body = Chunks | StreamedBody> {
  jobId: string;
  ticket: string;
  clientId: string;
  round: number;
  /** The body as it arrives: a request stream in the Worker; in the shard, that stream or its chunks. */
  body: Body;
}
