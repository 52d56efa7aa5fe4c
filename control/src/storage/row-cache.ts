/**
 * Parsed rows kept in memory beside the SQLite rows they mirror, so that a hot read (the job record
 * on every claim) costs no query and no JSON parse. Writes go through it and to SQLite together;
 * a transaction that throws puts back every entry it changed, as SQLite rolls back the rows.
 *
 * Cached values are deep-frozen and handed out as shallow copies: a caller may set top-level
 * fields on what it loaded (the job's state machine does) without touching the cache, and an
 * accidental write into a nested object throws instead of silently diverging from storage.
 */
export class RowCache<V extends object> {
  private readonly rows = new Map<string, Readonly<V> | null>();
  /** Entries as they were before the running transaction changed them (undefined: not cached). */
  private journal: Map<string, Readonly<V> | null | undefined> | null = null;

  constructor(private readonly limit = 1024) {}

  get(key: string, load: () => V | null): V | null {
    let value = this.rows.get(key);
    if (value === undefined) {
      value = freeze(load());
      this.remember(key, value);
    }
    return value && { ...value };
  }

  set(key: string, value: V | null): void {
    this.remember(key, frozenCopy(value));
  }

  /** Drops an entry: the next read loads it again. */
  forget(key: string): void {
    if (!this.rows.has(key)) return;
    if (this.journal && !this.journal.has(key)) this.journal.set(key, this.rows.get(key));
    this.rows.delete(key);
  }

  /** Runs `fn` (a storage transaction) so that a throw also undoes this cache's changes. */
  transaction<T>(fn: () => T): T {
    if (this.journal) return fn();
    const journal = (this.journal = new Map());
    try {
      const result = fn();
      this.journal = null;
      return result;
    } catch (error) {
      for (const [key, before] of journal) {
        if (before === undefined) this.rows.delete(key);
        else this.rows.set(key, before);
      }
      this.journal = null;
      throw error;
    }
  }

  private remember(key: string, value: Readonly<V> | null): void {
    if (this.journal && !this.journal.has(key)) this.journal.set(key, this.rows.get(key));
    // Bounded: past the limit the oldest entry goes (outside a transaction, where nothing needs undoing).
    if (!this.journal && this.rows.size >= this.limit && !this.rows.has(key)) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(key, value);
  }
}

/** Objects this module deep-froze: immutable to their leaves, so a copy may share them. */
const deepFrozen = new WeakSet<object>();

function freeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value) || ArrayBuffer.isView(value)) return value;
  for (const inner of Object.values(value)) freeze(inner);
  deepFrozen.add(value);
  return Object.freeze(value);
}

/**
 * A deep-frozen copy of a row (plain JSON-like data) that shares the parts already deep-frozen here:
 * a job record written back with a new `updatedAt` keeps its spec, loaded from this cache, without
 * cloning and freezing it again on every write.
 */
function frozenCopy<T>(value: T): T {
  if (value === null || typeof value !== "object" || deepFrozen.has(value)) return value;
  if (ArrayBuffer.isView(value)) return structuredClone(value);
  const copy = Array.isArray(value) ? value.map(frozenCopy) : Object.fromEntries(Object.entries(value).map(([k, inner]) => [k, frozenCopy(inner)]));
  deepFrozen.add(copy);
  return Object.freeze(copy) as T;
}
