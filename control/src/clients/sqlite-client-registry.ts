import type { Attributes } from "@propius/shared";
import type { SqlPort } from "../storage/sql-port.js";
import type { Binding, ClientRecord, ClientRegistry } from "./client-registry.js";
import { countWrites } from "../diagnostics/object-counters.js";

const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS clients (id TEXT PRIMARY KEY, attributes TEXT NOT NULL, last_seen INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS clients_by_last_seen ON clients (last_seen)",
  "CREATE TABLE IF NOT EXISTS bindings (client_id TEXT PRIMARY KEY, job_id TEXT NOT NULL, round INTEGER NOT NULL, bound_at INTEGER NOT NULL, lease_until INTEGER NOT NULL)",
];

/**
 * A client manager's registry over its Durable Object's SQLite database. A device checks in often
 * with the same attributes: its row is rewritten only when they change or when its stored
 * `last_seen` is `refreshMs` old, so the TTL and the supply window see it late by at most that.
 */
export class SqliteClientRegistry implements ClientRegistry {
  /** What this object last wrote per device: its attributes (JSON) and `last_seen`. */
  private readonly written = new Map<string, { attributes: string; lastSeen: number }>();

  /** Each device's binding as stored (null: none), read once: every check-in asks for it. */
  private readonly bindings = new Map<string, Binding | null>();

  private readonly sql: SqlPort;

  constructor(
    sql: SqlPort,
    private readonly refreshMs = 30_000,
  ) {
    this.sql = countWrites(sql);
    for (const statement of SCHEMA) sql.exec(statement);
  }

  upsert(record: ClientRecord): void {
    const attributes = JSON.stringify(record.attributes);
    const last = this.written.get(record.clientId);
    if (last && last.attributes === attributes && record.lastSeen - last.lastSeen < this.refreshMs) return;
    if (this.written.size >= 100_000) this.written.clear();
    this.written.set(record.clientId, { attributes, lastSeen: record.lastSeen });
    this.sql.exec(
      "INSERT INTO clients (id, attributes, last_seen) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET attributes = excluded.attributes, last_seen = excluded.last_seen",
      record.clientId, attributes, record.lastSeen,
    );
  }

  get(clientId: string): ClientRecord | null {
    const [row] = this.sql.exec("SELECT * FROM clients WHERE id = ?", clientId).toArray();
    return row ? toRecord(row) : null;
  }

  touch(clientId: string, now: number): boolean {
    const known = this.sql.exec("UPDATE clients SET last_seen = ? WHERE id = ? RETURNING id", now, clientId).toArray().length > 0;
    const last = this.written.get(clientId);
    if (last) last.lastSeen = now;
    return known;
  }

  seenSince(since: number): ClientRecord[] {
    return this.sql.exec("SELECT * FROM clients WHERE last_seen >= ?", since).toArray().map(toRecord);
  }

  binding(clientId: string): Binding | null {
    const known = this.bindings.get(clientId);
    if (known !== undefined) return known && { ...known };
    const [row] = this.sql.exec("SELECT * FROM bindings WHERE client_id = ?", clientId).toArray();
    const binding = row ? { jobId: row.job_id as string, round: Number(row.round), boundAt: Number(row.bound_at), leaseUntil: Number(row.lease_until) } : null;
    this.remember(clientId, binding);
    return binding && { ...binding };
  }

  setBinding(clientId: string, binding: Binding | null): void {
    // Known to hold none already: nothing to delete.
    if (binding === null && this.bindings.get(clientId) === null) return;
    this.remember(clientId, binding && { ...binding });
    if (!binding) {
      this.sql.exec("DELETE FROM bindings WHERE client_id = ?", clientId);
      return;
    }
    this.sql.exec(
      "INSERT OR REPLACE INTO bindings (client_id, job_id, round, bound_at, lease_until) VALUES (?, ?, ?, ?, ?)",
      clientId, binding.jobId, binding.round, binding.boundAt, binding.leaseUntil,
    );
  }

  count(): number {
    return Number(this.sql.exec("SELECT COUNT(*) AS n FROM clients").toArray()[0].n);
  }

  prune(before: number): number {
    this.sql.exec("DELETE FROM bindings WHERE client_id IN (SELECT id FROM clients WHERE last_seen < ?)", before);
    const pruned = this.sql.exec("DELETE FROM clients WHERE last_seen < ? RETURNING id", before).toArray();
    for (const row of pruned) this.written.delete(row.id as string);
    this.bindings.clear();
    return pruned.length;
  }

  private remember(clientId: string, binding: Binding | null): void {
    if (this.bindings.size >= 100_000 && !this.bindings.has(clientId)) this.bindings.clear();
    this.bindings.set(clientId, binding);
  }
}

function toRecord(row: Record<string, unknown>): ClientRecord {
  return { clientId: row.id as string, attributes: JSON.parse(row.attributes as string) as Attributes, lastSeen: Number(row.last_seen) };
}
