import { applySchema, chunksOf, floatsOf, type SqlPort, type TransactionPort } from "../storage/sql-port.js";
import type { AggregatorStore } from "./aggregator-store.js";
import type { Folded, PartialMeta } from "./partial-sum.js";
import { countWrites } from "../diagnostics/object-counters.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS partial (id INTEGER PRIMARY KEY CHECK (id = 0), meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sum_chunks (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS folded (
  ticket TEXT PRIMARY KEY, examples INTEGER NOT NULL, train_loss REAL, bytes_in INTEGER NOT NULL, bytes_down INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS update_chunks (ticket TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (ticket, idx));
CREATE TABLE IF NOT EXISTS spent (ticket TEXT PRIMARY KEY, until INTEGER NOT NULL);
`;

/**
 * AggregatorStore over a Durable Object's SQLite database. Its tables are made with its first
 * write: a shard only read (its counters, a round close of a round it took no update in) stores
 * nothing, and reads of tables not yet made find nothing.
 */
export class SqliteAggregatorStore implements AggregatorStore {
  private readonly sql: SqlPort;
  private made: boolean;

  constructor(
    private readonly raw: SqlPort,
    private readonly tx: TransactionPort,
  ) {
    this.sql = countWrites(raw);
    this.made = raw.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'partial'").toArray().length > 0;
    // A shard made by an earlier version gets the tables added since (each made only if missing).
    if (this.made) applySchema(raw, SCHEMA);
  }

  /** The tables, made on the first write. */
  private tables(): SqlPort {
    if (!this.made) (applySchema(this.raw, SCHEMA), (this.made = true));
    return this.sql;
  }

  loadPartial(): PartialMeta | null {
    if (!this.made) return null;
    const [row] = this.sql.exec("SELECT meta FROM partial WHERE id = 0").toArray();
    return row ? (JSON.parse(row.meta as string) as PartialMeta) : null;
  }
  loadSum(length: number): Float32Array {
    if (!this.made) return floatsOf([], length);
    return floatsOf(this.sql.exec("SELECT data FROM sum_chunks ORDER BY idx").toArray(), length);
  }
  *sumChunks(): Iterable<Uint8Array> {
    if (!this.made) return;
    for (let idx = 0; ; idx++) {
      const [row] = this.sql.exec("SELECT data FROM sum_chunks WHERE idx = ?", idx).toArray();
      if (!row) return;
      yield new Uint8Array(row.data as ArrayBuffer);
    }
  }
  savePartial(meta: PartialMeta, sum?: Float32Array): void {
    this.tables().exec("INSERT OR REPLACE INTO partial (id, meta) VALUES (0, ?)", JSON.stringify(meta));
    if (!sum) return;
    // Same length, same chunk count: rows are overwritten in place (an upsert updates the row's
    // pages where they are; INSERT OR REPLACE deleted and reinserted it, about a tenth slower).
    chunksOf(sum).forEach((chunk, idx) => this.sql.exec("INSERT INTO sum_chunks (idx, data) VALUES (?, ?) ON CONFLICT (idx) DO UPDATE SET data = excluded.data", idx, chunk));
  }
  loadFolded(ticket: string): Folded | null {
    if (!this.made) return null;
    const [row] = this.sql.exec("SELECT * FROM folded WHERE ticket = ?", ticket).toArray();
    return row ? toFolded(row) : null;
  }
  listFolded(): Folded[] {
    if (!this.made) return [];
    return this.sql.exec("SELECT * FROM folded ORDER BY ticket").toArray().map(toFolded);
  }
  saveFolded(f: Folded): void {
    this.tables().exec("INSERT OR REPLACE INTO folded (ticket, examples, train_loss, bytes_in, bytes_down) VALUES (?, ?, ?, ?, ?)", f.ticket, f.examples, f.trainLoss, f.bytesIn, f.bytesDown);
  }
  clear(): void {
    if (!this.made) return;
    this.sql.exec("DELETE FROM partial");
    this.sql.exec("DELETE FROM sum_chunks");
    this.sql.exec("DELETE FROM folded");
  }
  saveUpdate(ticket: string, values: Float32Array): void {
    this.tables().exec("DELETE FROM update_chunks WHERE ticket = ?", ticket);
    // 1 MiB rows, under the 2 MB a row may hold.
    chunksOf(values).forEach((chunk, idx) => this.sql.exec("INSERT INTO update_chunks (ticket, idx, data) VALUES (?, ?, ?)", ticket, idx, chunk));
  }
  loadUpdates(tickets: string[], length: number): Float32Array[] {
    if (!this.made) return tickets.map(() => floatsOf([], length));
    return tickets.map((ticket) => floatsOf(this.sql.exec("SELECT data FROM update_chunks WHERE ticket = ? ORDER BY idx", ticket).toArray(), length));
  }
  clearUpdates(): void {
    if (!this.made) return;
    this.sql.exec("DELETE FROM update_chunks");
  }
  spend(ticket: string, until: number, now: number): void {
    this.tables().exec("DELETE FROM spent WHERE until < ?", now);
    this.sql.exec("INSERT OR REPLACE INTO spent (ticket, until) VALUES (?, ?)", ticket, until);
  }
  isSpent(ticket: string): boolean {
    if (!this.made) return false;
    return this.sql.exec("SELECT 1 FROM spent WHERE ticket = ?", ticket).toArray().length > 0;
  }
  transaction<T>(fn: () => T): T {
    return this.tx.transactionSync(fn);
  }
}

function toFolded(row: Record<string, unknown>): Folded {
  return {
    ticket: row.ticket as string, examples: Number(row.examples), trainLoss: row.train_loss === null ? null : Number(row.train_loss),
    bytesIn: Number(row.bytes_in), bytesDown: Number(row.bytes_down),
  };
}
