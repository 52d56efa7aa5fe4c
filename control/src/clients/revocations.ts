import type { SqlPort } from "../storage/sql-port.js";

/**
 * The devices whose tokens the operator revoked, kept by the client-manager shard each device
 * belongs to (SQLite table `revoked_clients`). A revoked device cannot renew its token, so every
 * token it holds has expired by `until` (the revocation time plus the token lifetime): the row is
 * forgotten then, and the table holds at most a token lifetime's worth of revocations.
 */
export function revocations(sql: SqlPort) {
  sql.exec("CREATE TABLE IF NOT EXISTS revoked_clients (client_id TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL, until INTEGER NOT NULL)");
  return {
    revoke(clientId: string, now: number, until: number): void {
      sql.exec("DELETE FROM revoked_clients WHERE until <= ?", now);
      sql.exec("INSERT OR REPLACE INTO revoked_clients (client_id, revoked_at, until) VALUES (?, ?, ?)", clientId, now, until);
    },
    isRevoked(clientId: string, now: number): boolean {
      const [row] = sql.exec("SELECT until FROM revoked_clients WHERE client_id = ?", clientId).toArray();
      return row !== undefined && Number(row.until) > now;
    },
  };
}
