import type { Attributes, FailureCode, RoundRecord, StrategyState } from "@propius/shared";
import type { DeadlineStore } from "./deadlines.js";
import type { Assignment, DeviceChange, DeviceRecord, EvaluationAssignment, FailureRecord, JobRecord, JobStore } from "./job-store.js";
import { applySchema, chunksOf, floatsOf, type SqlPort, type TransactionPort } from "../storage/sql-port.js";
import { RowCache } from "../storage/row-cache.js";
import { countWrites } from "../diagnostics/object-counters.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rounds (round INTEGER NOT NULL, attempt INTEGER NOT NULL, record TEXT NOT NULL, PRIMARY KEY (round, attempt));
CREATE TABLE IF NOT EXISTS assignments (
  ticket TEXT PRIMARY KEY, client_id TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL,
  status TEXT NOT NULL, bound_at INTEGER NOT NULL, lease_until INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS assignments_by_round ON assignments (round, attempt, client_id);
CREATE INDEX IF NOT EXISTS assignments_by_client ON assignments (client_id, status, lease_until);
CREATE INDEX IF NOT EXISTS assignments_by_lease ON assignments (status, lease_until);
CREATE TABLE IF NOT EXISTS failures (
  client_id TEXT NOT NULL, round INTEGER NOT NULL, attempt INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (client_id, round, attempt));
CREATE TABLE IF NOT EXISTS evaluations (
  ticket TEXT PRIMARY KEY, client_id TEXT NOT NULL, round INTEGER NOT NULL, status TEXT NOT NULL, bound_at INTEGER NOT NULL, lease_until INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS evaluations_by_round ON evaluations (round, client_id);
CREATE TABLE IF NOT EXISTS devices (
  client_id TEXT PRIMARY KEY, attributes TEXT, failures TEXT, rounds_bound INTEGER NOT NULL, updates INTEGER NOT NULL, examples INTEGER NOT NULL,
  bytes_in INTEGER NOT NULL, evaluations INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deadlines (name TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS strategy_chunks (field TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (field, idx));
`;

/**
 * JobStore and DeadlineStore over a Durable Object's SQLite database. The job record, round records
 * and a device's failures are read on every claim: they are kept parsed in memory as well (the
 * object is the only writer of its database), and undone with a transaction that fails.
 */
export class SqliteJobStore implements JobStore, DeadlineStore {
  private readonly cache = new RowCache<object>();

  private readonly sql: SqlPort;

  constructor(
    sql: SqlPort,
    private readonly tx: TransactionPort,
  ) {
    this.sql = countWrites(sql);
    applySchema(sql, SCHEMA);
  }

  loadJob(): JobRecord | null {
    return this.cache.get("job", () => this.getMeta<JobRecord>("job")) as JobRecord | null;
  }
  saveJob(job: JobRecord): void {
    this.setMeta("job", job);
    this.cache.set("job", job);
  }

  loadRounds(): RoundRecord[] {
    return this.sql.exec("SELECT record FROM rounds ORDER BY round, attempt").toArray().map((r) => JSON.parse(r.record as string));
  }
  loadRound(round: number, attempt: number): RoundRecord | null {
    return this.cache.get(`round:${round}/${attempt}`, () => {
      const [row] = this.sql.exec("SELECT record FROM rounds WHERE round = ? AND attempt = ?", round, attempt).toArray();
      return row ? JSON.parse(row.record as string) : null;
    }) as RoundRecord | null;
  }
  saveRound(record: RoundRecord): void {
    this.sql.exec("INSERT OR REPLACE INTO rounds (round, attempt, record) VALUES (?, ?, ?)", record.round, record.attempt, JSON.stringify(record));
    this.cache.set(`round:${record.round}/${record.attempt}`, record);
  }

  loadAssignment(ticket: string): Assignment | null {
    const [row] = this.sql.exec("SELECT * FROM assignments WHERE ticket = ?", ticket).toArray();
    return row ? toAssignment(row) : null;
  }
  findAssignment(clientId: string, round: number, attempt: number): Assignment | null {
    const [row] = this.sql.exec("SELECT * FROM assignments WHERE round = ? AND attempt = ? AND client_id = ?", round, attempt, clientId).toArray();
    return row ? toAssignment(row) : null;
  }
  findLiveAssignment(clientId: string, now: number): Assignment | null {
    const [row] = this.sql.exec("SELECT * FROM assignments WHERE client_id = ? AND status = 'bound' AND lease_until >= ? ORDER BY bound_at DESC LIMIT 1", clientId, now).toArray();
    return row ? toAssignment(row) : null;
  }
  countLive(now: number): number {
    const [row] = this.sql.exec("SELECT COUNT(*) AS n FROM assignments WHERE status = 'bound' AND lease_until >= ?", now).toArray();
    return Number(row.n);
  }
  countHeld(round: number, attempt: number, now: number): number {
    const [row] = this.sql
      .exec("SELECT COUNT(*) AS n FROM assignments WHERE round = ? AND attempt = ? AND (status = 'reported' OR (status = 'bound' AND lease_until >= ?))", round, attempt, now)
      .toArray();
    return Number(row.n);
  }
  heldBy(round: number, attempt: number, now: number): string[] {
    return this.sql
      .exec("SELECT client_id FROM assignments WHERE round = ? AND attempt = ? AND (status = 'reported' OR (status = 'bound' AND lease_until >= ?))", round, attempt, now)
      .toArray()
      .map((row) => String(row.client_id));
  }
  countExpired(round: number, attempt: number, now: number): number {
    const [row] = this.sql.exec("SELECT COUNT(*) AS n FROM assignments WHERE round = ? AND attempt = ? AND status = 'bound' AND lease_until <= ?", round, attempt, now).toArray();
    return Number(row.n);
  }
  loadEvaluationAssignment(ticket: string): EvaluationAssignment | null {
    const [row] = this.sql.exec("SELECT * FROM evaluations WHERE ticket = ?", ticket).toArray();
    return row ? toEvaluation(row) : null;
  }
  findEvaluationAssignment(clientId: string, round: number): EvaluationAssignment | null {
    const [row] = this.sql.exec("SELECT * FROM evaluations WHERE round = ? AND client_id = ?", round, clientId).toArray();
    return row ? toEvaluation(row) : null;
  }
  saveEvaluationAssignment(a: EvaluationAssignment): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO evaluations (ticket, client_id, round, status, bound_at, lease_until) VALUES (?, ?, ?, ?, ?, ?)",
      a.ticket, a.clientId, a.round, a.status, a.boundAt, a.leaseUntil,
    );
  }
  countEvaluationsHeld(round: number, now: number): number {
    const [row] = this.sql.exec("SELECT COUNT(*) AS n FROM evaluations WHERE round = ? AND (status = 'reported' OR (status = 'bound' AND lease_until >= ?))", round, now).toArray();
    return Number(row.n);
  }
  saveFailure(f: FailureRecord): void {
    this.sql.exec("INSERT OR REPLACE INTO failures (client_id, round, attempt, code, message, at) VALUES (?, ?, ?, ?, ?, ?)", f.clientId, f.round, f.attempt, f.code, f.message, f.at);
    this.cache.forget(`failures:${f.clientId}`);
    this.cache.set("failures:any", { any: true });
  }
  findFailures(clientId: string, codes: readonly FailureCode[]): FailureRecord[] {
    if (codes.length === 0) return [];
    // Most jobs never see a failure: then no device's is read.
    const { any } = this.cache.get("failures:any", () => ({ any: this.sql.exec("SELECT 1 FROM failures LIMIT 1").toArray().length > 0 })) as { any: boolean };
    if (!any) return [];
    // Every failure of the device, most recent first, read once: most devices have none.
    const { records } = this.cache.get(`failures:${clientId}`, () => {
      const rows = this.sql.exec("SELECT * FROM failures WHERE client_id = ? ORDER BY at DESC", clientId).toArray();
      return { records: rows.map((r) => ({ clientId: r.client_id as string, round: Number(r.round), attempt: Number(r.attempt), code: r.code as FailureCode, message: r.message as string, at: Number(r.at) })) };
    }) as { records: FailureRecord[] };
    return records.filter((f) => codes.includes(f.code)).map((f) => ({ ...f }));
  }
  saveAssignment(a: Assignment): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO assignments (ticket, client_id, round, attempt, status, bound_at, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?)",
      a.ticket, a.clientId, a.round, a.attempt, a.status, a.boundAt, a.leaseUntil,
    );
  }

  /** One statement per event; a failure (rare) reads the device's counts by code first. */
  addToDevice(c: DeviceChange): void {
    let failures: string | null = null;
    if (c.failure) {
      const [row] = this.sql.exec("SELECT failures FROM devices WHERE client_id = ?", c.clientId).toArray();
      const known = JSON.parse((row?.failures as string | null) ?? "{}") as Record<string, number>;
      failures = JSON.stringify({ ...known, [c.failure]: (known[c.failure] ?? 0) + 1 });
    }
    this.sql.exec(
      `INSERT INTO devices (client_id, attributes, failures, rounds_bound, updates, examples, bytes_in, evaluations, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO UPDATE SET
         attributes = COALESCE(excluded.attributes, attributes), failures = COALESCE(excluded.failures, failures),
         rounds_bound = rounds_bound + excluded.rounds_bound, updates = updates + excluded.updates, examples = examples + excluded.examples,
         bytes_in = bytes_in + excluded.bytes_in, evaluations = evaluations + excluded.evaluations, last_seen = MAX(last_seen, excluded.last_seen)`,
      c.clientId, c.attributes ? JSON.stringify(c.attributes) : null, failures,
      c.roundsBound ?? 0, c.updates ?? 0, c.examples ?? 0, c.bytesIn ?? 0, c.evaluations ?? 0, c.at, c.at,
    );
  }
  hasDevice(clientId: string): boolean {
    return this.sql.exec("SELECT 1 FROM devices WHERE client_id = ?", clientId).toArray().length > 0;
  }
  /** No index on last_seen: every binding and counted update moves it, and the owner's read is rare, so the read sorts. */
  loadDevices(limit: number): DeviceRecord[] {
    return this.sql.exec("SELECT * FROM devices ORDER BY last_seen DESC LIMIT ?", limit).toArray().map((r) => ({
      clientId: r.client_id as string,
      attributes: JSON.parse((r.attributes as string | null) ?? "{}") as Attributes,
      roundsBound: Number(r.rounds_bound), updates: Number(r.updates), examples: Number(r.examples), bytesIn: Number(r.bytes_in),
      failures: JSON.parse((r.failures as string | null) ?? "{}") as DeviceRecord["failures"],
      evaluations: Number(r.evaluations), firstSeen: Number(r.first_seen), lastSeen: Number(r.last_seen),
    }));
  }

  /** Scalars in `meta`; each Float32Array (momentum, moments) in 1 MiB chunks of its own. */
  loadStrategyState(): StrategyState | null {
    const stored = this.getMeta<Record<string, unknown>>("strategy");
    if (!stored) return null;
    const state: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(stored)) {
      const array = value as { float32: number } | null;
      if (array === null || typeof array !== "object" || !("float32" in array)) {
        state[field] = value;
        continue;
      }
      state[field] = floatsOf(this.sql.exec("SELECT data FROM strategy_chunks WHERE field = ? ORDER BY idx", field).toArray(), array.float32);
    }
    return state as unknown as StrategyState;
  }
  saveStrategyState(state: StrategyState): void {
    this.sql.exec("DELETE FROM strategy_chunks");
    const stored: Record<string, unknown> = {};
    for (const [field, value] of Object.entries(state)) {
      if (!(value instanceof Float32Array)) {
        stored[field] = value;
        continue;
      }
      chunksOf(value).forEach((chunk, idx) => this.sql.exec("INSERT INTO strategy_chunks (field, idx, data) VALUES (?, ?, ?)", field, idx, chunk));
      stored[field] = { float32: value.length };
    }
    this.setMeta("strategy", stored);
  }

  transaction<T>(fn: () => T): T {
    return this.cache.transaction(() => this.tx.transactionSync(fn));
  }

  all(): Map<string, number> {
    return new Map(this.sql.exec("SELECT name, at FROM deadlines").toArray().map((r) => [r.name as string, Number(r.at)]));
  }
  put(name: string, at: number): void {
    this.sql.exec("INSERT OR REPLACE INTO deadlines (name, at) VALUES (?, ?)", name, at);
  }
  delete(name: string): void {
    this.sql.exec("DELETE FROM deadlines WHERE name = ?", name);
  }

  private getMeta<T>(key: string): T | null {
    const [row] = this.sql.exec("SELECT value FROM meta WHERE key = ?", key).toArray();
    return row ? (JSON.parse(row.value as string) as T) : null;
  }
  private setMeta(key: string, value: unknown): void {
    this.sql.exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, JSON.stringify(value));
  }
}

function toAssignment(row: Record<string, unknown>): Assignment {
  return {
    ticket: row.ticket as string, clientId: row.client_id as string, round: Number(row.round), attempt: Number(row.attempt),
    status: row.status as Assignment["status"], boundAt: Number(row.bound_at), leaseUntil: Number(row.lease_until),
  };
}

function toEvaluation(row: Record<string, unknown>): EvaluationAssignment {
  return {
    ticket: row.ticket as string, clientId: row.client_id as string, round: Number(row.round),
    status: row.status as EvaluationAssignment["status"], boundAt: Number(row.bound_at), leaseUntil: Number(row.lease_until),
  };
}
