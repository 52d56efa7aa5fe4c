import { describe, expect, it } from "vitest";
import type { SqlPort } from "../storage/sql-port.js";
import { countCalls, countWrites, countersOf, writesRows } from "./object-counters.js";
import { totalOf } from "./counters-total.js";

/** Answers every statement with no rows, reporting `rows` rows written for each. */
function fakeSql(rows: number): SqlPort {
  return { exec: () => ({ toArray: () => [], rowsWritten: rows }) };
}

class Counted {
  constructor(readonly label: string) {}
  async greet(name: string): Promise<string> {
    return `${this.label} ${name}`;
  }
  async other(): Promise<number> {
    return 1;
  }
  async alarm(): Promise<void> {}
}
countCalls(Counted, { greet: true, other: true });

describe("object counters", () => {
  it("counts each object's calls by method, alarms included, and keeps the method's `this` and result", async () => {
    const [a, b] = [new Counted("hello"), new Counted("hi")];
    expect(await a.greet("x")).toBe("hello x");
    await a.greet("y");
    await a.alarm();
    await b.other();
    expect(countersOf("Counted", a, a).calls).toEqual({ greet: 2, alarm: 1 });
    expect(countersOf("Counted", b, b).calls).toEqual({ other: 1 });
  });

  it("counts the statements that write and the rows they report, per storage", () => {
    const raw = fakeSql(3);
    const sql = countWrites(raw);
    sql.exec("CREATE TABLE IF NOT EXISTS t (a)");
    sql.exec("SELECT * FROM t");
    sql.exec("INSERT INTO t (a) VALUES (?)", 1);
    sql.exec("  update t SET a = 2");
    sql.exec("DELETE FROM t RETURNING a");
    expect(countersOf("X", {}, raw)).toMatchObject({ statements: 3, rows: 9 });
    expect(countersOf("X", {}, fakeSql(1))).toMatchObject({ statements: 0, rows: 0 });
  });

  it("tells writes from reads by the first keyword", () => {
    expect(["INSERT OR REPLACE INTO a", "REPLACE INTO a", "UPDATE a", "DELETE FROM a", "insert into a"].map(writesRows)).toEqual([true, true, true, true, true]);
    expect(["SELECT 1", "PRAGMA table_info(a)", "CREATE TABLE a (x)", "ALTER TABLE a ADD b", ""].map(writesRows)).toEqual([false, false, false, false, false]);
  });

  it("sums the reached objects: calls by class and method, writes by class", () => {
    const counters = (calls: Record<string, number>, statements: number) => ({ class: "A", instance: "i", calls, statements, rows: statements * 2 });
    const total = totalOf([{ name: "a-0", counters: counters({ f: 1, g: 2 }, 3) }, { name: "a-1", counters: { ...counters({ f: 4 }, 1), class: "B" } }]);
    expect(total.calls).toEqual({ "A.f": 1, "A.g": 2, "B.f": 4 });
    expect(total.writes).toEqual({ A: { statements: 3, rows: 6 }, B: { statements: 1, rows: 2 } });
    expect(total.totals).toEqual({ calls: 7, statements: 4, rows: 8 });
    expect(total.objects.map((o) => [o.name, o.calls])).toEqual([["a-0", 3], ["a-1", 4]]);
  });
});
