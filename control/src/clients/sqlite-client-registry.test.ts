import { describe, expect, it } from "vitest";
import type { SqlPort } from "../storage/sql-port.js";
import { SqliteClientRegistry } from "./sqlite-client-registry.js";

/** Records the statements the registry sends to SQLite (answers every query with no rows). */
function recordingSql(): SqlPort & { writes: () => string[] } {
  const statements: string[] = [];
  return {
    exec(query: string) {
      statements.push(query);
      return { toArray: () => [] };
    },
    writes: () => statements.filter((q) => q.startsWith("INSERT INTO clients")),
  };
}

describe("SqliteClientRegistry", () => {
  it("writes a device's row when it first checks in and when its attributes change", () => {
    const sql = recordingSql();
    const registry = new SqliteClientRegistry(sql, 30_000);
    registry.upsert({ clientId: "c1", attributes: { os: "linux" }, lastSeen: 1_000 });
    registry.upsert({ clientId: "c1", attributes: { os: "android" }, lastSeen: 2_000 });
    expect(sql.writes()).toHaveLength(2);
  });

  it("skips the write for the same attributes within the refresh interval, and writes again after it", () => {
    const sql = recordingSql();
    const registry = new SqliteClientRegistry(sql, 30_000);
    registry.upsert({ clientId: "c1", attributes: { os: "linux" }, lastSeen: 1_000 });
    registry.upsert({ clientId: "c1", attributes: { os: "linux" }, lastSeen: 20_000 });
    expect(sql.writes()).toHaveLength(1);
    registry.upsert({ clientId: "c1", attributes: { os: "linux" }, lastSeen: 31_000 });
    expect(sql.writes()).toHaveLength(2);
  });

  it("counts a ping as a write of last_seen, so the next check-in within the interval writes nothing", () => {
    const sql = recordingSql();
    const registry = new SqliteClientRegistry(sql, 30_000);
    registry.upsert({ clientId: "c1", attributes: {}, lastSeen: 1_000 });
    registry.touch("c1", 40_000);
    registry.upsert({ clientId: "c1", attributes: {}, lastSeen: 50_000 });
    expect(sql.writes()).toHaveLength(1);
  });
});
