import { PropiusError, type ApiKeyInfo } from "@propius/shared";
import type { SqlPort, TransactionPort } from "../storage/sql-port.js";

/** A key's public id: the first 12 hex digits of its SHA-256 (the hash is all that is stored of it). */
export const keyIdOf = (keyHash: string) => keyHash.slice(0, 12);
export const KEY_ID_PATTERN = /^[0-9a-f]{12}$/;

/** What an API key (by hash) opens: its tenant, or that it was revoked, or nothing. */
export type KeyLookup = { tenant: string } | { revoked: true } | null;

/**
 * A tenant's API keys over the directory's SQLite table `api_keys` (hash, tenant, created_at,
 * revoked_at). A revoked key keeps its row, so that its holder is told `key_revoked` rather than
 * `unauthorized`, and the tenant's list shows when it was revoked. A tenant always keeps one key
 * that works: the last one is revoked only by rotating it (a new key replaces it in one transaction).
 */
export function apiKeys(sql: SqlPort, tx: TransactionPort) {
  const rowsOf = (tenant: string) => sql.exec("SELECT key_hash, created_at, revoked_at FROM api_keys WHERE tenant = ? ORDER BY created_at, key_hash", tenant).toArray();
  const infoOf = (row: Record<string, unknown>): ApiKeyInfo => ({
    id: keyIdOf(row.key_hash as string),
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null || row.revoked_at === undefined ? null : Number(row.revoked_at),
  });
  /** The tenant's key with this id (revoked or not); key_not_found for another tenant's or none. */
  const find = (tenant: string, id: string) => {
    const row = rowsOf(tenant).find((r) => keyIdOf(r.key_hash as string) === id);
    if (!row) throw new PropiusError("key_not_found", `tenant ${tenant} has no API key ${id}`);
    return row;
  };
  const insert = (tenant: string, keyHash: string, now: number) => {
    sql.exec("INSERT INTO api_keys (key_hash, tenant, created_at) VALUES (?, ?, ?)", keyHash, tenant, now);
    return infoOf({ key_hash: keyHash, created_at: now, revoked_at: null });
  };
  const revokeRow = (row: Record<string, unknown>, now: number) => {
    sql.exec("UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?", now, row.key_hash);
    return infoOf({ ...row, revoked_at: now });
  };

  return {
    lookup(keyHash: string): KeyLookup {
      const [row] = sql.exec("SELECT tenant, revoked_at FROM api_keys WHERE key_hash = ?", keyHash).toArray();
      if (!row) return null;
      return row.revoked_at === null ? { tenant: row.tenant as string } : { revoked: true };
    },

    list(tenant: string): ApiKeyInfo[] {
      return rowsOf(tenant).map(infoOf);
    },

    /** Adds a key to the tenant (the tenant row must exist). */
    add(tenant: string, keyHash: string, now: number): ApiKeyInfo {
      return insert(tenant, keyHash, now);
    },

    /** Revokes one key; refused with last_key when it is the tenant's only working key. A repeat answers as the first. */
    revoke(tenant: string, id: string, now: number): ApiKeyInfo {
      const row = find(tenant, id);
      if (row.revoked_at !== null) return infoOf(row);
      const working = rowsOf(tenant).filter((r) => r.revoked_at === null).length;
      if (working <= 1) throw new PropiusError("last_key", "this is the tenant's last working API key: rotate it (POST /v1/keys/{id}/rotate) or create another key first");
      return revokeRow(row, now);
    },

    /** Replaces a working key by a new one in one transaction: the old key is refused from now on. */
    rotate(tenant: string, id: string, newHash: string, now: number): { key: ApiKeyInfo; revoked: ApiKeyInfo } {
      const row = find(tenant, id);
      if (row.revoked_at !== null) throw new PropiusError("key_revoked", `API key ${id} is already revoked; create a new key instead`);
      return tx.transactionSync(() => ({ key: insert(tenant, newHash, now), revoked: revokeRow(row, now) }));
    },
  };
}
