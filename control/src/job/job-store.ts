import type { Attributes, FailureCode, JobSpec, JobState, RoundRecord, StrategyState } from "@propius/shared";

/** The job as stored: its spec and where it stands. */
export interface JobRecord {
  id: string;
  tenant: string;
  spec: JobSpec;
  state: JobState;
  createdAt: number;
  updatedAt: number;
  /** Current round (1-based; 0 before the initial model is set) and its attempt. */
  round: number;
  attempt: number;
  modelVersion: number;
  modelHash: string | null;
  /** The round attempt whose result devices are evaluating now, if any (see evaluation.ts). */
  evaluating?: { round: number; attempt: number } | null;
  /** The norm bound of the current round, for jobs with an adaptive one (set as each round closes). */
  clipBound?: number;
  /** Why the job failed, once it did. */
  failure?: string;
}

/** One device bound to one round attempt; the ticket is its key. */
export interface Assignment {
  ticket: string;
  clientId: string;
  round: number;
  attempt: number;
  /** bound: training; reported: its update counted; failed: it reported it could not do the task (its slot is free). */
  status: "bound" | "reported" | "failed";
  boundAt: number;
  leaseUntil: number;
}

/** One device asked to evaluate the result of `round`; the ticket is its key. */
export interface EvaluationAssignment {
  ticket: string;
  clientId: string;
  round: number;
  status: "bound" | "reported" | "failed";
  boundAt: number;
  leaseUntil: number;
}

/** A device's report that it could not do a task. */
export interface FailureRecord {
  clientId: string;
  round: number;
  attempt: number;
  code: FailureCode;
  message: string;
  at: number;
}

/** One device that took part in the job, and what it contributed. */
export interface DeviceRecord {
  clientId: string;
  attributes: Attributes;
  roundsBound: number;
  updates: number;
  examples: number;
  bytesIn: number;
  failures: Partial<Record<FailureCode, number>>;
  evaluations: number;
  firstSeen: number;
  lastSeen: number;
}

/** What one event adds to a device's record: counts to add, its attributes when it was bound, when it was seen. */
export interface DeviceChange {
  clientId: string;
  at: number;
  attributes?: Attributes;
  roundsBound?: number;
  updates?: number;
  examples?: number;
  bytesIn?: number;
  failure?: FailureCode;
  evaluations?: number;
}

/**
 * Durable storage of one job, injected into the job's state machine: SQLite inside the Durable
 * Object, memory in unit tests and the simulator. `transaction` makes a group of writes atomic.
 */
export interface JobStore {
  loadJob(): JobRecord | null;
  saveJob(job: JobRecord): void;
  loadRounds(): RoundRecord[];
  loadRound(round: number, attempt: number): RoundRecord | null;
  saveRound(record: RoundRecord): void;
  loadAssignment(ticket: string): Assignment | null;
  findAssignment(clientId: string, round: number, attempt: number): Assignment | null;
  /** Slots of the attempt held at `now`: reported ones, and bound ones whose lease is live. */
  countHeld(round: number, attempt: number, now: number): number;
  /** The devices holding a slot of the attempt (reported, or bound with a live lease). */
  heldBy(round: number, attempt: number, now: number): string[];
  /** Bound assignments of the attempt whose lease has run out at `now` (no update, no failure). */
  countExpired(round: number, attempt: number, now: number): number;
  saveFailure(failure: FailureRecord): void;
  loadEvaluationAssignment(ticket: string): EvaluationAssignment | null;
  findEvaluationAssignment(clientId: string, round: number): EvaluationAssignment | null;
  saveEvaluationAssignment(assignment: EvaluationAssignment): void;
  /** Evaluation slots of `round` held at `now`: reported ones, and bound ones whose lease is live. */
  countEvaluationsHeld(round: number, now: number): number;
  /** The device's failures on this job with one of `codes`, most recent first. */
  findFailures(clientId: string, codes: readonly FailureCode[]): FailureRecord[];
  /** Asynchronous jobs: the device's bound assignment whose lease is live at `now`, in any round. */
  findLiveAssignment(clientId: string, now: number): Assignment | null;
  /** Asynchronous jobs: bound assignments whose lease is live at `now`, in any round. */
  countLive(now: number): number;
  saveAssignment(assignment: Assignment): void;
  /** The aggregation strategy's server state (momentum, moments), kept from round to round. */
  loadStrategyState(): StrategyState | null;
  saveStrategyState(state: StrategyState): void;
  /** Adds an event's figures to the device's record (creating it); `at` moves its last sighting only forward. */
  addToDevice(change: DeviceChange): void;
  /** The most recently seen devices first, at most `limit`. */
  loadDevices(limit: number): DeviceRecord[];
  /** Whether the device was ever bound to the job. */
  hasDevice(clientId: string): boolean;
  transaction<T>(fn: () => T): T;
}

const roundKey = (round: number, attempt: number) => `${round}/${attempt}`;

/** A JobStore in memory; copies values in and out so callers cannot alias stored state, and rolls back failed transactions. */
export class MemoryJobStore implements JobStore {
  private job: JobRecord | null = null;
  private readonly rounds = new Map<string, RoundRecord>();
  private readonly assignments = new Map<string, Assignment>();
  private failures: FailureRecord[] = [];
  private evaluations = new Map<string, EvaluationAssignment>();
  private strategyState: StrategyState | null = null;
  private devices = new Map<string, DeviceRecord>();

  loadJob() {
    return this.job && structuredClone(this.job);
  }
  saveJob(job: JobRecord) {
    this.job = structuredClone(job);
  }
  loadRounds() {
    return [...this.rounds.values()].map((r) => ({ ...r })).sort((a, b) => a.round - b.round || a.attempt - b.attempt);
  }
  loadRound(round: number, attempt: number) {
    const r = this.rounds.get(roundKey(round, attempt));
    return r ? { ...r } : null;
  }
  saveRound(record: RoundRecord) {
    this.rounds.set(roundKey(record.round, record.attempt), { ...record });
  }
  loadAssignment(ticket: string) {
    const a = this.assignments.get(ticket);
    return a ? { ...a } : null;
  }
  findAssignment(clientId: string, round: number, attempt: number) {
    for (const a of this.assignments.values()) {
      if (a.clientId === clientId && a.round === round && a.attempt === attempt) return { ...a };
    }
    return null;
  }
  findLiveAssignment(clientId: string, now: number) {
    for (const a of this.assignments.values()) if (a.clientId === clientId && a.status === "bound" && a.leaseUntil >= now) return { ...a };
    return null;
  }
  countLive(now: number) {
    let n = 0;
    for (const a of this.assignments.values()) if (a.status === "bound" && a.leaseUntil >= now) n++;
    return n;
  }
  countHeld(round: number, attempt: number, now: number) {
    let n = 0;
    for (const a of this.assignments.values()) if (a.round === round && a.attempt === attempt && (a.status === "reported" || (a.status === "bound" && a.leaseUntil >= now))) n++;
    return n;
  }
  heldBy(round: number, attempt: number, now: number) {
    const held: string[] = [];
    for (const a of this.assignments.values()) if (a.round === round && a.attempt === attempt && (a.status === "reported" || (a.status === "bound" && a.leaseUntil >= now))) held.push(a.clientId);
    return held;
  }
  countExpired(round: number, attempt: number, now: number) {
    let n = 0;
    for (const a of this.assignments.values()) if (a.round === round && a.attempt === attempt && a.status === "bound" && a.leaseUntil <= now) n++;
    return n;
  }
  loadEvaluationAssignment(ticket: string) {
    const a = this.evaluations.get(ticket);
    return a ? { ...a } : null;
  }
  findEvaluationAssignment(clientId: string, round: number) {
    for (const a of this.evaluations.values()) if (a.clientId === clientId && a.round === round) return { ...a };
    return null;
  }
  saveEvaluationAssignment(assignment: EvaluationAssignment) {
    this.evaluations = new Map(this.evaluations).set(assignment.ticket, { ...assignment });
  }
  countEvaluationsHeld(round: number, now: number) {
    let n = 0;
    for (const a of this.evaluations.values()) if (a.round === round && (a.status === "reported" || (a.status === "bound" && a.leaseUntil >= now))) n++;
    return n;
  }
  saveFailure(failure: FailureRecord) {
    this.failures = [...this.failures, { ...failure }];
  }
  findFailures(clientId: string, codes: readonly FailureCode[]) {
    return this.failures.filter((f) => f.clientId === clientId && codes.includes(f.code)).reverse().map((f) => ({ ...f }));
  }
  saveAssignment(assignment: Assignment) {
    this.assignments.set(assignment.ticket, { ...assignment });
  }
  loadStrategyState() {
    return this.strategyState && structuredClone(this.strategyState);
  }
  saveStrategyState(state: StrategyState) {
    this.strategyState = structuredClone(state);
  }
  addToDevice(change: DeviceChange) {
    const known = this.devices.get(change.clientId);
    this.devices = new Map(this.devices).set(change.clientId, applyDeviceChange(known, change));
  }
  hasDevice(clientId: string) {
    return this.devices.has(clientId);
  }
  loadDevices(limit: number) {
    return [...this.devices.values()].sort((a, b) => b.lastSeen - a.lastSeen).slice(0, limit).map((d) => structuredClone(d));
  }
  /** Runs `fn`; if it throws, every write it made is undone. */
  transaction<T>(fn: () => T): T {
    const snapshot = {
      job: this.job,
      rounds: new Map(this.rounds),
      assignments: new Map(this.assignments),
      failures: this.failures,
      evaluations: this.evaluations,
      strategyState: this.strategyState,
      devices: this.devices,
    };
    try {
      return fn();
    } catch (error) {
      this.job = snapshot.job;
      this.strategyState = snapshot.strategyState;
      this.failures = snapshot.failures;
      this.evaluations = snapshot.evaluations;
      this.devices = snapshot.devices;
      this.rounds.clear();
      snapshot.rounds.forEach((v, k) => this.rounds.set(k, v));
      this.assignments.clear();
      snapshot.assignments.forEach((v, k) => this.assignments.set(k, v));
      throw error;
    }
  }
}

/** A device's record with one event's figures added (a new record when there was none). */
export function applyDeviceChange(known: DeviceRecord | undefined, change: DeviceChange): DeviceRecord {
  const d = known ?? { clientId: change.clientId, attributes: {}, roundsBound: 0, updates: 0, examples: 0, bytesIn: 0, failures: {}, evaluations: 0, firstSeen: change.at, lastSeen: change.at };
  return {
    ...d,
    attributes: change.attributes ? { ...change.attributes } : d.attributes,
    roundsBound: d.roundsBound + (change.roundsBound ?? 0),
    updates: d.updates + (change.updates ?? 0),
    examples: d.examples + (change.examples ?? 0),
    bytesIn: d.bytesIn + (change.bytesIn ?? 0),
    failures: change.failure ? { ...d.failures, [change.failure]: (d.failures[change.failure] ?? 0) + 1 } : d.failures,
    evaluations: d.evaluations + (change.evaluations ?? 0),
    lastSeen: Math.max(d.lastSeen, change.at),
  };
}
