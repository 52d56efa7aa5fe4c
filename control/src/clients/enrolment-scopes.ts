import type { SqlPort } from "../storage/sql-port.js";

/**
 * The enrolment scopes of a shard's devices that enrolled with an enrolment token (SQLite table
 * `enrolment_scopes`), kept by the shard the device's id maps to, which is where it checks in. A
 * small memo in front: every check-in reads it, and a scope never changes once set.
 */
export function enrolmentScopes(sql: SqlPort) {
  sql.exec("CREATE TABLE IF NOT EXISTS enrolment_scopes (client_id TEXT PRIMARY KEY, scope TEXT NOT NULL)");
  const memo = new Map<string, string | null>();
  return {
    set(clientId: string, scope: string): void {
      sql.exec("INSERT OR REPLACE INTO enrolment_scopes (client_id, scope) VALUES (?, ?)", clientId, scope);
      memo.set(clientId, scope);
    },
    get(clientId: string): string | null {
      if (memo.has(clientId)) return memo.get(clientId)!;
      const [row] = sql.exec("SELECT scope FROM enrolment_scopes WHERE client_id = ?", clientId).toArray();
      const scope = row ? (row.scope as string) : null;
      if (memo.size >= 10_000) memo.delete(memo.keys().next().value!);
      memo.set(clientId, scope);
      return scope;
    },
  };
}
