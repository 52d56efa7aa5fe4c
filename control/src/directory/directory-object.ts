import { DurableObject } from "cloudflare:workers";
import type { JobState } from "@propius/shared";
import type { Env } from "../env.js";
import { reply, type Reply } from "../job/reply.js";

export interface JobEntry {
  id: string;
  tenant: string;
  name: string;
  state: JobState;
  createdAt: number;
}

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS api_keys (key_hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, tenant TEXT NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, created_at)",
];

/**
 * The control plane's directory: tenants and their API keys (stored as SHA-256 hashes), and an
 * index of jobs with their state, which the scheduler reads to find jobs that want devices.
 */
export class DirectoryObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    for (const statement of SCHEMA) ctx.storage.sql.exec(statement);
  }

  /** Creates a tenant with its first API key, or adds a key to an existing tenant. */
  addApiKey(tenant: string, keyHash: string): Promise<Reply<{ tenant: string; created: boolean }>> {
    return reply(() => {
      const now = Date.now();
      const exists = this.rows("SELECT id FROM tenants WHERE id = ?", tenant).length > 0;
      this.ctx.storage.transactionSync(() => {
        if (!exists) this.ctx.storage.sql.exec("INSERT INTO tenants (id, created_at) VALUES (?, ?)", tenant, now);
        this.ctx.storage.sql.exec("INSERT INTO api_keys (key_hash, tenant, created_at) VALUES (?, ?, ?)", keyHash, tenant, now);
      });
      return { tenant, created: !exists };
    });
  }

  /** The tenant an API key (by hash) belongs to, or null. */
  async tenantForKey(keyHash: string): Promise<string | null> {
    const [row] = this.rows("SELECT tenant FROM api_keys WHERE key_hash = ?", keyHash);
    return row ? (row.tenant as string) : null;
  }

  async trackJob(entry: JobEntry): Promise<void> {
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO jobs (id, tenant, name, state, created_at) VALUES (?, ?, ?, ?, ?)",
      entry.id, entry.tenant, entry.name, entry.state, entry.createdAt,
    );
  }

  async setJobState(id: string, state: JobState): Promise<void> {
    this.ctx.storage.sql.exec("UPDATE jobs SET state = ? WHERE id = ?", state, id);
  }

  /** Jobs that want devices, oldest first (FIFO). */
  async runningJobs(limit = 64): Promise<JobEntry[]> {
    return this.rows("SELECT * FROM jobs WHERE state = 'running' ORDER BY created_at, id LIMIT ?", limit).map(toEntry);
  }

  async jobsOf(tenant: string): Promise<JobEntry[]> {
    return this.rows("SELECT * FROM jobs WHERE tenant = ? ORDER BY created_at, id", tenant).map(toEntry);
  }

  private rows(query: string, ...bindings: unknown[]): Record<string, unknown>[] {
    return this.ctx.storage.sql.exec(query, ...bindings).toArray();
  }
}

function toEntry(row: Record<string, unknown>): JobEntry {
  return { id: row.id as string, tenant: row.tenant as string, name: row.name as string, state: row.state as JobState, createdAt: Number(row.created_at) };
}

