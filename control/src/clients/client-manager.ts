import { meetsConstraints, withEnrolment, type Attributes, type CheckInReply, type Constraints, type JobOffer, type Task } from "@propius/shared";
import type { DeviceView, JobView, Policy, Random, SchedulerView, SupplySample } from "../scheduling/policies/index.js";
import { slotCapacity } from "../job/round-slots.js";
import { jitter } from "../scheduling/jitter.js";
import type { Binding, ClientRegistry } from "./client-registry.js";
import type { ShardTally } from "../metrics/shard-tally.js";

/** A running job as the directory lists it for scheduling. */
export interface ScheduledJob {
  id: string;
  createdAt: number;
  /** The current round (1-based) and its attempt (0 unless retried). */
  round: number;
  attempt: number;
  /** Seconds a round attempt binds devices. */
  selectionSeconds: number;
  totalRounds: number;
  demand: number;
  overCommit: number;
  priority: number;
  constraints?: Constraints;
  privateConstraints?: Constraints;
  /** Reports a round attempt needs to close (demand x minReportFraction). */
  minimum?: number;
  /** Eligible devices online over every shard, as the directory last heard (see scheduling/admission.ts). */
  eligibleOnline?: number;
}

/** A job's answer to a claim for a slot in its current round. */
export type ClaimAnswer = { kind: "task"; task: Task } | { kind: "wait"; reason: string; retryAfterMs: number };

export interface ClientManagerConfig {
  /** How long the list of running jobs is reused before it is read again (the directory is not asked per check-in). */
  viewTtlMs: number;
  /** How long a device's attributes count without a check-in or ping. */
  attributeTtlMs: number;
  /** The window of recent check-ins that estimates device supply. */
  supplySpanMs: number;
  /** When to come back if no job wants the device. */
  idleRetryMs: number;
  /** At most this many jobs in one offer. */
  maxOffers: number;
}

export const DEFAULT_CLIENT_MANAGER_CONFIG: ClientManagerConfig = {
  viewTtlMs: 1_000,
  attributeTtlMs: 10 * 60_000,
  supplySpanMs: 60_000,
  idleRetryMs: 10_000,
  maxOffers: 8,
};

/** The attribute that carries a device's compute-time factor (higher is slower), for tier matching. */
export const SPEED_ATTRIBUTE = "inference_latency";

export interface ClientManagerDeps {
  registry: ClientRegistry;
  policy: Policy;
  loadJobs: () => Promise<ScheduledJob[]>;
  /** `attributes`: the device's as this shard holds them, for the job's record of the devices that took part. */
  claim: (jobId: string, clientId: string, attributes: Attributes) => Promise<ClaimAnswer>;
  random?: Random;
  config?: Partial<ClientManagerConfig>;
  /** Devices holding a push connection while they wait: they count as seen now in the supply estimate. */
  connected?: () => Iterable<string>;
  /** Where check-ins and bindings are counted for `GET /metrics`. */
  tally?: ShardTally;
  /** The enrolment scope of a device enrolled with a token (see @propius/shared's enrolment.ts), else null. */
  scopeOf?: (clientId: string) => string | null;
}

/** A retry time in whole milliseconds, spread by +/- 20 %. */
const spread = (ms: number, random: Random) => Math.round(jitter(random, ms));

export function deviceView(clientId: string, attributes: Attributes): DeviceView {
  const speed = attributes[SPEED_ATTRIBUTE];
  return { id: clientId, attributes, speed: typeof speed === "number" && speed > 0 ? speed : 1 };
}

type Wait = Extract<CheckInReply, { status: "wait" }>;

/**
 * One shard of the client managers, free of any platform import: it keeps its devices' attributes
 * (with a TTL) and bindings, estimates supply from recent check-ins, and binds a checking-in device
 * by offering it the running jobs in the policy's order. Jobs grant slots atomically, so the view it
 * orders by may be a second old without any round being over-assigned; a device holding a live slot
 * is offered nothing else, so it serves one job at a time.
 */
export class ClientManager {
  private readonly config: ClientManagerConfig;
  private readonly random: Random;
  private readonly recent = new Map<string, { view: DeviceView; lastSeen: number }>();
  private recentLoaded = false;
  private readonly fullUntil = new Map<string, number>();
  /** Per job: seconds from binding to report per unit of device speed factor, a moving average (tier matching's estimate). */
  private readonly taskTime = new Map<string, number>();
  private jobs: { at: number; list: ScheduledJob[] } | null = null;
  private supply: SupplySample = { version: 0, spanSeconds: 0, devices: [] };

  constructor(private readonly deps: ClientManagerDeps) {
    const given = Object.entries(deps.config ?? {}).filter(([, value]) => value !== undefined);
    this.config = { ...DEFAULT_CLIENT_MANAGER_CONFIG, ...Object.fromEntries(given) };
    this.random = deps.random ?? Math.random;
  }

  /** A device checks in with its attributes, over HTTP or on its push connection (`transport`, for the metrics). */
  async checkIn(clientId: string, attributes: Attributes, now: number, accept?: string, transport: "http" | "push" = "http"): Promise<CheckInReply> {
    this.deps.tally?.checkIn(transport);
    return this.checkInAs(this.heardFrom(clientId, attributes, now), now, accept);
  }

  /** Checks in a device by its registered attributes (a device waiting on a push connection); null when unknown. */
  async checkInKnown(clientId: string, now: number): Promise<CheckInReply | null> {
    const record = this.deps.registry.get(clientId);
    if (!record) return null;
    // Its attributes are as stored and its connection keeps it counted: nothing is written.
    this.deps.tally?.checkIn("push");
    const device = deviceView(clientId, record.attributes);
    this.recent.set(clientId, { view: device, lastSeen: now });
    return this.checkInAs(device, now);
  }

  private async checkInAs(device: DeviceView, now: number, accept?: string): Promise<CheckInReply> {
    const { id: clientId, attributes } = device;
    const view = await this.view(now);
    const skip = new Set<string>();
    let wait: Wait | null = null;

    // A device holding a live slot gets the same task again (the job keeps its ticket) and nothing else.
    const held = this.deps.registry.binding(clientId);
    if (held && held.leaseUntil > now) {
      const result = await this.bind(device, held.jobId, now, held);
      if (result.kind === "task") return result.reply;
      this.deps.registry.setBinding(clientId, null);
      if (result.wait.reason === "already_reported") this.learnTaskTime(held.jobId, (now - held.boundAt) / 1000 / device.speed);
      wait = earlier(wait, result.wait);
      skip.add(held.jobId);
    } else if (held) {
      this.deps.registry.setBinding(clientId, null);
    }

    if (accept !== undefined) {
      const job = view.jobs.find((j) => j.id === accept);
      if (!job || skip.has(accept)) return this.waitReply(wait, "offer_expired", 1_000);
      if (!meetsConstraints(attributes, job.constraints)) return this.waitReply(wait, "ineligible");
      const result = await this.bind(device, job.id, now, null);
      return result.kind === "task" ? result.reply : this.waitReply(result.wait);
    }

    const ordered = this.deps.policy.offer(view, device, this.random).filter((job) => !skip.has(job.id));
    for (const [index, job] of ordered.entries()) {
      // Client-side choice: the server refuses a pick the device is not eligible for.
      if (!meetsConstraints(attributes, job.constraints)) continue;
      // Only the device can check private constraints: it chooses from the rest of the order.
      if (hasConstraints(this.scheduled(job.id)?.privateConstraints)) return this.offer(ordered.slice(index), attributes);
      const result = await this.bind(device, job.id, now, null);
      if (result.kind === "task") return result.reply;
      wait = earlier(wait, result.wait);
    }
    return wait ? this.waitReply(wait) : this.idle(view, attributes, now);
  }

  /** A job has news (a round opened, a slot freed): forget that it was full and read the list of jobs again. */
  reopen(jobId: string): void {
    this.fullUntil.delete(jobId);
    this.jobs = null;
  }

  /**
   * This shard has offered `jobId` to as many waiting devices as it has slots: it offers it to no
   * other device until `until` (their answers claim the slots, or leave them for the next wave).
   */
  holdOffers(jobId: string, until: number): void {
    this.fullUntil.set(jobId, Math.max(until, this.fullUntil.get(jobId) ?? 0));
  }

  /** Slots a job's round attempt has (0 for a job this shard does not list). */
  capacityOf(jobId: string): number {
    const job = this.scheduled(jobId);
    return job ? slotCapacity(job) : 0;
  }

  /** Whether any running job may have a slot, by this shard's view. */
  async hasRoom(now: number): Promise<boolean> {
    return (await this.view(now)).jobs.some((job) => job.openSlots > 0);
  }

  /** When the earliest job this shard holds as full said to try again, or null. */
  reopensAt(now: number): number | null {
    let at: number | null = null;
    for (const until of this.fullUntil.values()) if (until > now && (at === null || until < at)) at = until;
    return at;
  }

  /** A device that is busy (training) keeps its place in the supply estimate. */
  ping(clientId: string, now: number, attributes?: Attributes): { known: boolean; ttlMs: number } {
    if (attributes) {
      this.heardFrom(clientId, attributes, now);
      return { known: true, ttlMs: this.config.attributeTtlMs };
    }
    const known = this.deps.registry.touch(clientId, now);
    const recent = this.recent.get(clientId);
    if (recent) recent.lastSeen = now;
    return { known, ttlMs: this.config.attributeTtlMs };
  }

  /** Forgets devices not heard from within the TTL; returns how many. */
  prune(now: number): number {
    const before = now - this.config.attributeTtlMs;
    for (const [id, entry] of this.recent) if (entry.lastSeen < before) this.recent.delete(id);
    return this.deps.registry.prune(before);
  }

  /** Takes a new sample of the devices seen within the supply window (the view takes one as it refreshes). */
  sampleSupplyNow(now: number): void {
    this.supply = this.sampleSupply(now);
  }

  /**
   * Per running job, the devices seen within the supply window (as of the last sample) that meet its
   * public constraints: what the job's starvation figures count.
   */
  eligibleByJob(): { eligible: Record<string, number>; windowSeconds: number } {
    const eligible: Record<string, number> = {};
    for (const job of this.jobs?.list ?? []) {
      let n = 0;
      for (const device of this.supply.devices) if (meetsConstraints(device.attributes, job.constraints)) n += 1;
      eligible[job.id] = n;
    }
    return { eligible, windowSeconds: this.config.supplySpanMs / 1000 };
  }

  /** Devices in this shard's registry. */
  registeredDevices(): number {
    return this.deps.registry.count();
  }

  get attributeTtlMs(): number {
    return this.config.attributeTtlMs;
  }

  /** The jobs and supply the policy orders by: the directory's list, reused for `viewTtlMs`. */
  async view(now: number): Promise<SchedulerView> {
    if (!this.jobs || now - this.jobs.at >= this.config.viewTtlMs) {
      this.jobs = { at: now, list: await this.deps.loadJobs() };
      this.supply = this.sampleSupply(now);
    }
    const jobs = this.jobs.list.map((job) => toJobView(job, (this.fullUntil.get(job.id) ?? 0) > now, this.taskTime.get(job.id)));
    return { now, jobs, supply: this.supply };
  }

  /**
   * Claims a slot; on success the device holds it until its lease ends. A refusal for a full round
   * is remembered until the job says to try again, so that this shard stops offering the job.
   * `kept` is the device's binding when it checks in holding one (else null: none is stored).
   */
  private async bind(device: DeviceView, jobId: string, now: number, kept: Binding | null): Promise<{ kind: "task"; reply: CheckInReply } | { kind: "wait"; wait: Wait }> {
    const clientId = device.id;
    const answer = await this.deps.claim(jobId, clientId, device.attributes);
    if (answer.kind === "task") {
      const renewed = kept?.jobId === jobId && kept.round === answer.task.round;
      const boundAt = renewed ? kept.boundAt : now;
      if (!renewed) this.deps.tally?.bound(jobId, this.deps.policy.name);
      this.deps.registry.setBinding(clientId, { jobId, round: answer.task.round, boundAt, leaseUntil: answer.task.deadline });
      return { kind: "task", reply: { status: "task", task: answer.task } };
    }
    if (answer.reason !== "already_reported") this.fullUntil.set(jobId, now + answer.retryAfterMs);
    return { kind: "wait", wait: { status: "wait", retryAfterMs: answer.retryAfterMs, reason: answer.reason } };
  }

  private offer(jobs: readonly JobView[], attributes: Attributes): CheckInReply {
    const offers: JobOffer[] = [];
    for (const job of jobs) {
      if (offers.length >= this.config.maxOffers) break;
      if (!meetsConstraints(attributes, job.constraints)) continue;
      offers.push({ jobId: job.id, privateConstraints: this.scheduled(job.id)?.privateConstraints ?? {} });
    }
    return { status: "offer", offers, retryAfterMs: spread(this.config.idleRetryMs, this.random) };
  }

  /** Why nothing was offered, and when a job this device is eligible for may have room again. */
  private idle(view: SchedulerView, attributes: Attributes, now: number): Wait {
    const eligible = view.jobs.filter((job) => meetsConstraints(attributes, job.constraints));
    if (eligible.length === 0) return this.waitReply(null, view.jobs.length === 0 ? "no_jobs" : "no_eligible_job");
    const reopening = eligible.map((job) => this.fullUntil.get(job.id) ?? 0).filter((at) => at > now);
    // Eligible jobs that are not full, yet not offered: the policy keeps the device for later (a partition, a tier).
    if (reopening.length === 0) return this.waitReply(null, "not_offered");
    return this.waitReply(null, "round_full", Math.max(Math.min(...reopening) - now, 500));
  }

  private learnTaskTime(jobId: string, sample: number): void {
    if (!(sample > 0) || !Number.isFinite(sample)) return;
    const known = this.taskTime.get(jobId);
    this.taskTime.set(jobId, known === undefined ? sample : 0.8 * known + 0.2 * sample);
    if (this.taskTime.size > 1024) this.taskTime.delete(this.taskTime.keys().next().value!);
  }

  private waitReply(wait: Wait | null, reason = "round_full", retryAfterMs = this.config.idleRetryMs): Wait {
    const chosen = wait ?? { status: "wait" as const, retryAfterMs, reason };
    return { ...chosen, retryAfterMs: spread(Math.min(chosen.retryAfterMs, this.config.idleRetryMs), this.random) };
  }

  private scheduled(jobId: string): ScheduledJob | undefined {
    return this.jobs?.list.find((job) => job.id === jobId);
  }

  private heardFrom(clientId: string, reported: Attributes, now: number): DeviceView {
    // The enrolment scope is the control plane's to say: a device's own `enrolment` attribute is replaced.
    const attributes = withEnrolment(reported, this.deps.scopeOf?.(clientId) ?? null);
    const view = deviceView(clientId, attributes);
    this.deps.registry.upsert({ clientId, attributes, lastSeen: now });
    this.recent.set(clientId, { view, lastSeen: now });
    return view;
  }

  private sampleSupply(now: number): SupplySample {
    const since = now - this.config.supplySpanMs;
    if (!this.recentLoaded) {
      this.recentLoaded = true;
      for (const record of this.deps.registry.seenSince(since)) {
        if (!this.recent.has(record.clientId)) this.recent.set(record.clientId, { view: deviceView(record.clientId, record.attributes), lastSeen: record.lastSeen });
      }
    }
    for (const clientId of this.deps.connected?.() ?? []) {
      const entry = this.recent.get(clientId);
      if (entry) entry.lastSeen = now;
      else {
        const record = this.deps.registry.get(clientId);
        if (record) this.recent.set(clientId, { view: deviceView(clientId, record.attributes), lastSeen: now });
      }
    }
    const devices: DeviceView[] = [];
    for (const entry of this.recent.values()) if (entry.lastSeen >= since) devices.push(entry.view);
    return { version: this.supply.version + 1, spanSeconds: this.config.supplySpanMs / 1000, devices };
  }
}

const earlier = (a: Wait | null, b: Wait): Wait => (a && a.retryAfterMs <= b.retryAfterMs ? a : b);

const hasConstraints = (constraints: Constraints | undefined) => constraints !== undefined && Object.keys(constraints).length > 0;

function toJobView(job: ScheduledJob, full: boolean, secondsPerSpeedUnit: number | undefined): JobView {
  return {
    secondsPerSpeedUnit,
    id: job.id,
    arrivedAt: job.createdAt,
    constraints: job.constraints,
    openSlots: full ? 0 : slotCapacity(job),
    demand: job.demand,
    overCommit: job.overCommit,
    remainingRounds: Math.max(1, job.totalRounds - job.round + 1),
    priority: job.priority,
    roundKey: `${job.round}/${job.attempt}`,
    attempt: job.attempt,
    selectionSeconds: job.selectionSeconds,
    minimum: job.minimum,
    eligibleOnline: job.eligibleOnline,
  };
}
