import type { DurableObject } from "cloudflare:workers";
import type { SqlPort } from "../storage/sql-port.js";

/**
 * What one Durable Object has done since it started in its isolate: its calls (RPC methods and
 * alarms) by method, and the SQL statements that wrote with the rows they wrote. Kept in memory
 * only: an object that restarts counts from zero again, under a new `instance`.
 */
export interface ObjectCounters {
  class: string;
  /** Random id of this start of the object; another one means the counts began again. */
  instance: string;
  calls: Record<string, number>;
  /** INSERT, UPDATE, DELETE and REPLACE statements run (schema statements at start are not counted). */
  statements: number;
  /** Rows written, as SQLite reports them for the statements above (index entries included). */
  rows: number;
}

interface CallTally {
  instance: string;
  calls: Record<string, number>;
}
interface WriteTally {
  statements: number;
  rows: number;
}

/** By object instance. */
const callTallies = new WeakMap<object, CallTally>();
/** By the object's SQL storage, which its stores write through. */
const writeTallies = new WeakMap<object, WriteTally>();

function callTally(object: object): CallTally {
  let tally = callTallies.get(object);
  if (!tally) callTallies.set(object, (tally = { instance: crypto.randomUUID(), calls: {} }));
  return tally;
}

function writeTally(sql: object): WriteTally {
  let tally = writeTallies.get(sql);
  if (!tally) writeTallies.set(sql, (tally = { statements: 0, rows: 0 }));
  return tally;
}

/** The counters of `object`, whose stores write through `sql`. */
export function countersOf(className: string, object: object, sql: object): ObjectCounters {
  const calls = callTally(object);
  const writes = writeTally(sql);
  return { class: className, instance: calls.instance, calls: { ...calls.calls }, statements: writes.statements, rows: writes.rows };
}

type MethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T];
/** The public methods an object answers over RPC (the platform's handlers and `counters` itself apart). */
export type CountedMethods<T> = Exclude<MethodsOf<T>, keyof DurableObject | "counters">;

const wrapped = new WeakSet<object>();

/**
 * Counts every call of `methods` on objects of `klass`, and of its alarm and push-frame handler if it has them: one
 * integer add per call. The record must name every public method (the compiler checks), so a
 * method added later is counted or the build fails.
 */
export function countCalls<T extends object>(klass: { prototype: T }, methods: Record<CountedMethods<T>, true>): void {
  const prototype = klass.prototype as Record<string, unknown>;
  if (wrapped.has(prototype)) return;
  wrapped.add(prototype);
  const names: string[] = Object.keys(methods);
  for (const handler of ["alarm", "webSocketMessage"]) if (Object.hasOwn(prototype, handler)) names.push(handler);
  for (const name of names) {
    const original = prototype[name];
    if (typeof original !== "function") throw new Error(`${name} is not a method of this class`);
    prototype[name] = function counted(this: object, ...args: unknown[]): unknown {
      const calls = callTally(this).calls;
      calls[name] = (calls[name] ?? 0) + 1;
      return original.apply(this, args);
    };
  }
}

const WRITE_KEYWORDS = new Set(["INSERT", "UPDATE", "DELETE", "REPLACE"]);
const isWriteQuery = new Map<string, boolean>();

/** Whether a statement writes rows, by its first keyword (queries are constant strings: cached). */
export function writesRows(query: string): boolean {
  let writes = isWriteQuery.get(query);
  if (writes === undefined) {
    writes = WRITE_KEYWORDS.has(/^\s*([A-Za-z]+)/.exec(query)?.[1]?.toUpperCase() ?? "");
    if (isWriteQuery.size < 1_000) isWriteQuery.set(query, writes);
  }
  return writes;
}

/** `sql`, counting the statements that write and their rows into the counters of the object that owns it. */
export function countWrites(sql: SqlPort): SqlPort {
  const tally = writeTally(sql);
  return {
    exec(query, ...bindings) {
      const cursor = sql.exec(query, ...bindings);
      if (writesRows(query)) {
        tally.statements += 1;
        // SQLite runs a write at its first step, which exec takes: the count is final here.
        tally.rows += cursor.rowsWritten ?? 0;
      }
      return cursor;
    },
  };
}
