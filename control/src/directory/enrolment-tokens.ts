import { PropiusError, type EnrolmentTokenInfo } from "@propius/shared";
import type { SqlPort } from "../storage/sql-port.js";
import { keyIdOf } from "./api-keys.js";

/**
 * A tenant's enrolment tokens over the directory's SQLite table `enrolment_tokens` (hash, tenant,
 * job, created_at, revoked_at): kept as SHA-256 like API keys, listed by id (the hash's first 12
 * hex digits). A revoked token enrols no more devices; those it enrolled keep their scope.
 */
export function enrolmentTokens(sql: SqlPort) {
  sql.exec("CREATE TABLE IF NOT EXISTS enrolment_tokens (token_hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, job TEXT, created_at INTEGER NOT NULL, revoked_at INTEGER)");
  const infoOf = (row: Record<string, unknown>): EnrolmentTokenInfo => ({
    id: keyIdOf(row.token_hash as string),
    job: (row.job as string | null) ?? null,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : Number(row.revoked_at),
  });
  const rowsOf = (tenant: string) => sql.exec("SELECT * FROM enrolment_tokens WHERE tenant = ? ORDER BY created_at, token_hash", tenant).toArray();
  return {
    add(tenant: string, tokenHash: string, job: string | null, now: number): EnrolmentTokenInfo {
      sql.exec("INSERT INTO enrolment_tokens (token_hash, tenant, job, created_at) VALUES (?, ?, ?, ?)", tokenHash, tenant, job, now);
      return infoOf({ token_hash: tokenHash, job, created_at: now, revoked_at: null });
    },
    list(tenant: string): EnrolmentTokenInfo[] {
      return rowsOf(tenant).map(infoOf);
    },
    revoke(tenant: string, id: string, now: number): EnrolmentTokenInfo {
      const row = rowsOf(tenant).find((r) => keyIdOf(r.token_hash as string) === id);
      if (!row) throw new PropiusError("not_found", `tenant ${tenant} has no enrolment token ${id}`);
      if (row.revoked_at !== null) return infoOf(row);
      sql.exec("UPDATE enrolment_tokens SET revoked_at = ? WHERE token_hash = ?", now, row.token_hash);
      return infoOf({ ...row, revoked_at: now });
    },
    /** What a token enrols for, or null when it is unknown or revoked. */
    lookup(tokenHash: string): { tenant: string; job: string | null } | null {
      const [row] = sql.exec("SELECT tenant, job, revoked_at FROM enrolment_tokens WHERE token_hash = ?", tokenHash).toArray();
      return row && row.revoked_at === null ? { tenant: row.tenant as string, job: (row.job as string | null) ?? null } : null;
    },
  };
}
