import { DurableObject } from "cloudflare:workers";
import { DEFAULT_PRIORITY, PropiusError, enrolmentConstraint, type JobSpec, type JobState } from "@propius/shared";
import type { Env } from "../env.js";
import { reply, type Reply } from "../job/reply.js";
import { reportsNeeded } from "../job/round-slots.js";
import type { ScheduledJob } from "../clients/client-manager.js";
import type { SqlPort } from "../storage/sql-port.js";
import { countWrites, countersOf, type ObjectCounters } from "../diagnostics/object-counters.js";
import { MetricsLedger, type ShardReport, type SupplySeen } from "../metrics/metrics-ledger.js";
import type { MetricBatch } from "../metrics/metric-batch.js";
import type { Exposition } from "../metrics/prometheus-text.js";
import type { ApiKeyInfo } from "@propius/shared";
import { apiKeys, type KeyLookup } from "./api-keys.js";
import { enrolmentTokens } from "./enrolment-tokens.js";
import type { EnrolmentTokenInfo } from "@propius/shared";

/** A shard's eligible counts older than this no longer count as devices seen (two supply windows). */
const SUPPLY_MAX_AGE_MS = 120_000;

export interface JobEntry {
  id: string;
  tenant: string;
  name: string;
  state: JobState;
  createdAt: number;
}

/** What the scheduler needs of a job's spec; it does not change while the job runs. */
export type JobSchedule = Omit<ScheduledJob, "id" | "createdAt" | "round" | "attempt" | "eligibleOnline">;

export function scheduleOf(spec: JobSpec, job: { id: string; tenant: string }): JobSchedule {
  // A job that takes only token-enrolled devices has the enrolment scope among its public constraints.
  const constraints = spec.enrolment === "token" ? { ...spec.constraints, ...enrolmentConstraint(job) } : spec.constraints;
  return {
    totalRounds: spec.estimatedRounds ?? spec.plan.rounds,
    demand: spec.plan.clientsPerRound,
    minimum: reportsNeeded({ demand: spec.plan.clientsPerRound, minReportFraction: spec.plan.minReportFraction }),
    overCommit: spec.plan.overCommit,
    selectionSeconds: spec.plan.selectionTimeoutSeconds ?? spec.plan.roundDeadlineSeconds,
    priority: spec.priority ?? DEFAULT_PRIORITY,
    constraints,
    privateConstraints: spec.privateConstraints,
  };
}

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created_at)",
];
/** Columns added after the first release; a state folder from before gets them on start. */
const ADDED_COLUMNS = [
  ["jobs", "schedule", "TEXT"],
  ["jobs", "round", "INTEGER NOT NULL DEFAULT 0"],
  ["jobs", "attempt", "INTEGER NOT NULL DEFAULT 0"],
  ["api_keys", "revoked_at", "INTEGER"],
] as const;

/**
 * The control plane's directory: tenants and their API keys (stored as SHA-256 hashes), and an
 * index of jobs with their state, which the scheduler reads to find jobs that want devices.
 */
export class DirectoryObject extends DurableObject<Env> {
  private readonly sql: SqlPort;
  private readonly metrics: MetricsLedger;
  private readonly keys: ReturnType<typeof apiKeys>;
  private readonly enrolment: ReturnType<typeof enrolmentTokens>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = countWrites(ctx.storage.sql);
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
    for (const [table, column, type] of ADDED_COLUMNS) {
      const columns = ctx.storage.sql.exec(`PRAGMA table_info(${table})`).toArray().map((row) => row.name);
      if (!columns.includes(column)) ctx.storage.sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
    this.metrics = new MetricsLedger(this.sql, ctx.storage.sql);
    this.keys = apiKeys(this.sql, ctx.storage);
    this.enrolment = enrolmentTokens(this.sql);
  }

  /** Creates a tenant with its first API key, or adds a key to an existing tenant. */
  addApiKey(tenant: string, keyHash: string): Promise<Reply<{ tenant: string; created: boolean }>> {
    return reply(() => {
      const now = Date.now();
      const exists = this.rows("SELECT id FROM tenants WHERE id = ?", tenant).length > 0;
      this.ctx.storage.transactionSync(() => {
        if (!exists) this.sql.exec("INSERT INTO tenants (id, created_at) VALUES (?, ?)", tenant, now);
        this.keys.add(tenant, keyHash, now);
      });
      return { tenant, created: !exists };
    });
  }

  /** The tenant an API key (by hash) belongs to, that it was revoked, or null. */
  async lookupKey(keyHash: string): Promise<KeyLookup> {
    return this.keys.lookup(keyHash);
  }

  /** The tenant's API keys, revoked ones too, oldest first (see api-keys.ts). */
  async listKeys(tenant: string): Promise<ApiKeyInfo[]> {
    return this.keys.list(tenant);
  }

  /** Another key for an existing tenant. */
  async createKey(tenant: string, keyHash: string): Promise<ApiKeyInfo> {
    return this.keys.add(tenant, keyHash, Date.now());
  }

  revokeKey(tenant: string, id: string): Promise<Reply<ApiKeyInfo>> {
    return reply(() => this.keys.revoke(tenant, id, Date.now()));
  }

  rotateKey(tenant: string, id: string, newHash: string): Promise<Reply<{ key: ApiKeyInfo; revoked: ApiKeyInfo }>> {
    return reply(() => this.keys.rotate(tenant, id, newHash, Date.now()));
  }

  /** Another enrolment token of the tenant, for its jobs or for one (a job of another tenant is job_not_found). */
  createEnrolmentToken(tenant: string, tokenHash: string, job: string | null): Promise<Reply<EnrolmentTokenInfo>> {
    return reply(() => {
      if (job !== null && this.rows("SELECT id FROM jobs WHERE id = ? AND tenant = ?", job, tenant).length === 0) throw new PropiusError("job_not_found", `no job ${job}`);
      return this.enrolment.add(tenant, tokenHash, job, Date.now());
    });
  }

  async listEnrolmentTokens(tenant: string): Promise<EnrolmentTokenInfo[]> {
    return this.enrolment.list(tenant);
  }

  revokeEnrolmentToken(tenant: string, id: string): Promise<Reply<EnrolmentTokenInfo>> {
    return reply(() => this.enrolment.revoke(tenant, id, Date.now()));
  }

  /** What an enrolment token (by hash) enrols a device for, or null. */
  async enrolmentFor(tokenHash: string): Promise<{ tenant: string; job: string | null } | null> {
    return this.enrolment.lookup(tokenHash);
  }

  async trackJob(entry: JobEntry & { schedule: JobSchedule }): Promise<void> {
    this.sql.exec(
      "INSERT OR REPLACE INTO jobs (id, tenant, name, state, created_at, schedule, round) VALUES (?, ?, ?, ?, ?, ?, 0)",
      entry.id, entry.tenant, entry.name, entry.state, entry.createdAt, JSON.stringify(entry.schedule),
    );
  }

  /**
   * A job's state and current round, as the job changes them, with the figures of the round
   * attempt that ended, if one did, and the demand of the attempt it runs now (smaller than the
   * spec's while its scarcity plan shrinks a round).
   */
  async setJobState(id: string, state: JobState, round?: number, attempt = 0, ended?: MetricBatch | null, demand?: { demand: number; minimum: number } | null): Promise<void> {
    if (ended) this.metrics.apply([ended], Date.now());
    if (demand) this.sql.exec("UPDATE jobs SET schedule = json_set(schedule, '$.demand', ?, '$.minimum', ?) WHERE id = ? AND schedule IS NOT NULL", demand.demand, demand.minimum, id);
    if (round === undefined) this.sql.exec("UPDATE jobs SET state = ? WHERE id = ?", state, id);
    else this.sql.exec("UPDATE jobs SET state = ?, round = ?, attempt = ? WHERE id = ?", state, round, attempt, id);
  }

  /** Forgets a deleted job. */
  async untrackJob(id: string): Promise<void> {
    this.sql.exec("DELETE FROM jobs WHERE id = ?", id);
    this.metrics.forgetJob(id);
  }

  async setJobSchedule(id: string, schedule: JobSchedule): Promise<void> {
    this.sql.exec("UPDATE jobs SET schedule = ? WHERE id = ?", JSON.stringify(schedule), id);
  }

  /** Running jobs with what the scheduler orders them by, oldest first, and their eligible devices online when the shards said. */
  async scheduledJobs(): Promise<ScheduledJob[]> {
    const now = Date.now();
    return this.rows("SELECT id, created_at, round, attempt, schedule FROM jobs WHERE state = 'running' AND schedule IS NOT NULL ORDER BY created_at, id").map((row) => {
      const id = row.id as string;
      const supply = this.metrics.supplyOf(id, now, SUPPLY_MAX_AGE_MS);
      return {
        id,
        createdAt: Number(row.created_at),
        round: Math.max(1, Number(row.round)),
        attempt: Number(row.attempt),
        ...(JSON.parse(row.schedule as string) as JobSchedule),
        ...(supply.measuredAt === null ? {} : { eligibleOnline: supply.eligibleDevices }),
      };
    });
  }

  /** Jobs that want devices, oldest first (FIFO). */
  async runningJobs(limit = 64): Promise<JobEntry[]> {
    return this.rows("SELECT * FROM jobs WHERE state = 'running' ORDER BY created_at, id LIMIT ?", limit).map(toEntry);
  }

  async jobsOf(tenant: string): Promise<JobEntry[]> {
    return this.rows("SELECT * FROM jobs WHERE tenant = ? ORDER BY created_at, id", tenant).map(toEntry);
  }

  /** A client-manager shard's counts and figures, sent on its alarm (see `ShardReport`). */
  async reportShard(report: ShardReport): Promise<void> {
    const now = Date.now();
    this.metrics.apply(report.batches, now);
    if (report.gauges) this.metrics.report(report.gauges, now);
  }

  /** An upload refused with `code`, counted under its job if the job exists. */
  async countRefusal(jobId: string, code: string): Promise<void> {
    const known = this.rows("SELECT id FROM jobs WHERE id = ?", jobId).length > 0;
    this.metrics.count({ name: "propius_updates_refused_total", ...(known ? { job: jobId } : {}), labels: { code }, value: 1 });
  }

  /** The metrics a scrape shows: every job's and the platform's for the operator (`tenant` null), else that tenant's jobs'. */
  async exposition(tenant: string | null): Promise<Exposition> {
    const jobs = tenant === null ? this.rows("SELECT id, tenant, state FROM jobs") : this.rows("SELECT id, tenant, state FROM jobs WHERE tenant = ?", tenant);
    return this.metrics.exposition(jobs.map((row) => ({ id: row.id as string, tenant: row.tenant as string, state: row.state as JobState })), tenant === null);
  }

  /** The eligible devices the shards saw recently for a job (see `starvationOf`). */
  async supplyOf(jobId: string): Promise<SupplySeen> {
    return this.metrics.supplyOf(jobId, Date.now(), SUPPLY_MAX_AGE_MS);
  }

  /** What this object has done since it started (see `GET /v1/admin/counters`). */
  async counters(): Promise<ObjectCounters> {
    return countersOf("DirectoryObject", this, this.ctx.storage.sql);
  }

  private rows(query: string, ...bindings: unknown[]): Record<string, unknown>[] {
    return this.sql.exec(query, ...bindings).toArray();
  }
}

function toEntry(row: Record<string, unknown>): JobEntry {
  return { id: row.id as string, tenant: row.tenant as string, name: row.name as string, state: row.state as JobState, createdAt: Number(row.created_at) };
}

