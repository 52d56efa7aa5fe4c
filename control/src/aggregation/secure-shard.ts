import {
  PropiusError,
  decodeSecureSum,
  secureContext,
  parameterCount,
  type SecureKeys,
  type SecurePhase,
  type SecureReveal,
  type SecureShares,
  type UpdateReceipt,
} from "@propius/shared";
import type { Tickets } from "../auth/tickets.js";
import type { Reply } from "../job/reply.js";
import type { AggregatorCore } from "./aggregator-core.js";
import { compareKeys, type PartialKey } from "./partial-sum.js";
import { SecureGroup, type Member, type UnmaskedSum } from "./secure-group.js";
import type { JobDescription, JobPort } from "./shard-ports.js";

/** A device's call into its shard's group: what the Worker hands on with its ticket. */
export interface SecureCall {
  jobId: string;
  ticket: string;
  clientId: string;
  round: number;
}

/**
 * An aggregator shard's secure aggregation (docs/secure-aggregation.md), free of any platform
 * import: it checks each call's ticket by itself, keeps one group for the newest round attempt it
 * has seen (a call for an older one is `round_closed`), and folds a group's unmasked sum into the
 * shard's partial sum through AggregatorCore, so that sealing, counting and releasing are the
 * shard's as for any upload.
 */
export class SecureShard {
  private group: SecureGroup | null = null;
  private described: JobDescription | null = null;

  constructor(
    private readonly core: AggregatorCore,
    private readonly job: JobPort,
    private readonly tickets: Tickets,
    private readonly shard: number,
    private readonly now: () => number = Date.now,
  ) {}

  async join(call: SecureCall, keys: SecureKeys): Promise<{ index: number }> {
    const { group, member } = await this.groupFor(call, true);
    return group.join(member, keys);
  }

  async share(call: SecureCall, shares: SecureShares): Promise<{ accepted: true }> {
    const { group, member } = await this.groupFor(call);
    return group.share(member, shares);
  }

  async mask(call: SecureCall, values: Uint32Array): Promise<{ accepted: true; bytes: number }> {
    const { group, member } = await this.groupFor(call);
    return group.mask(member, values);
  }

  async reveal(call: SecureCall, body: SecureReveal): Promise<{ accepted: true }> {
    const { group, member } = await this.groupFor(call);
    return group.reveal(member, body);
  }

  async outcome(call: SecureCall, phase: SecurePhase, holdMs?: number) {
    const { group, member } = await this.groupFor(call);
    return group.outcome(member, phase, holdMs);
  }

  /** The values a masked input of this shard's job holds (0 before the job is known here). */
  get maskedLength(): number {
    return this.described ? parameterCount(this.described.weightSpecs) + 1 : 0;
  }

  /** Learns the job once, refusing one that does not aggregate securely. */
  async describe(jobId: string): Promise<JobDescription & { secure: NonNullable<JobDescription["secure"]> }> {
    this.described ??= await this.job.describe(jobId);
    const secure = this.described.secure;
    if (!secure) throw new PropiusError("secure_aggregation_off", "this job does not aggregate securely; upload the delta to the task's uploadUrl");
    return { ...this.described, secure };
  }

  /** The call's group: the current one, or (joining) a new one for a newer attempt, which ends the older. */
  private async groupFor(call: SecureCall, joining = false): Promise<{ group: SecureGroup; member: Member }> {
    const claims = this.tickets.verify(call.ticket);
    if (!claims || claims.jobId !== call.jobId || claims.clientId !== call.clientId || claims.round !== call.round || claims.shard !== this.shard) {
      throw new PropiusError("ticket_invalid", "this ticket was not issued to this client for this job and round");
    }
    const job = await this.describe(call.jobId);
    if (this.now() > claims.leaseUntil) throw new PropiusError("round_closed", `round ${claims.round} is closed; the task's lease ended`);
    const key: PartialKey = { round: claims.round, attempt: claims.attempt };
    const member = { ticket: claims.id, clientId: claims.clientId };
    const order = this.group ? compareKeys(key, this.group.key) : 1;
    if (order < 0) throw new PropiusError("round_closed", `round ${key.round} attempt ${key.attempt} is over; the job has moved on`);
    if (order > 0) {
      if (!joining) throw new PropiusError("secure_phase_closed", `round ${key.round} attempt ${key.attempt}: this device has not joined its group`);
      this.group?.end("a newer round attempt began");
      this.group = new SecureGroup(key, secureContext(call.jobId, key.round, key.attempt), job.secure, parameterCount(job.weightSpecs) + 1, {
        bound: (k) => this.job.secureBound(call.jobId, k, this.shard),
        commit: (k, sum) => this.commit(k, sum, job),
        now: this.now,
      });
    }
    return { group: this.group!, member };
  }

  /** The group's decoded sum as the shard's partial sum for `key`, counted at the job. */
  private commit(key: PartialKey, unmasked: UnmaskedSum, job: JobDescription & { secure: NonNullable<JobDescription["secure"]> }): Promise<Reply<UpdateReceipt>[]> {
    const task = { range: job.secure.range, weighting: job.weighting, maxExamples: job.robustness.maxExamples };
    const { sum, weight } = decodeSecureSum(unmasked.decoded, task);
    const examples = job.weighting === "uniform" ? 0 : Math.round(weight);
    return this.core.foldGroup(job.jobId, key, { sum, weight, examples, bytesIn: unmasked.bytesIn, senders: unmasked.senders });
  }
}

