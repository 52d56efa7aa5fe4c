import type { ObjectCounters } from "./object-counters.js";

/** One object's counters in a total, by the name the route reached it under. */
export interface ReachedObject {
  name: string;
  class: string;
  instance: string;
  calls: number;
  statements: number;
  rows: number;
}

/** The counters of the objects a request reached, summed: calls by `Class.method`, writes by class. */
export interface CountersTotal {
  objects: ReachedObject[];
  calls: Record<string, number>;
  writes: Record<string, { statements: number; rows: number }>;
  totals: { calls: number; statements: number; rows: number };
}

export function totalOf(reached: { name: string; counters: ObjectCounters }[]): CountersTotal {
  const total: CountersTotal = { objects: [], calls: {}, writes: {}, totals: { calls: 0, statements: 0, rows: 0 } };
  for (const { name, counters } of reached) {
    let calls = 0;
    for (const [method, n] of Object.entries(counters.calls)) {
      const key = `${counters.class}.${method}`;
      total.calls[key] = (total.calls[key] ?? 0) + n;
      calls += n;
    }
    const writes = (total.writes[counters.class] ??= { statements: 0, rows: 0 });
    writes.statements += counters.statements;
    writes.rows += counters.rows;
    total.totals.calls += calls;
    total.totals.statements += counters.statements;
    total.totals.rows += counters.rows;
    total.objects.push({ name, class: counters.class, instance: counters.instance, calls, statements: counters.statements, rows: counters.rows });
  }
  return total;
}
