/**
 * Named deadlines multiplexed onto one alarm. A Durable Object has a single alarm; the job needs
 * several timers (round deadline, aggregation, lease sweeps). Each is stored by name; the alarm is
 * always set to the earliest one, and firing it runs every deadline that is due.
 */
export interface DeadlineStore {
  all(): Map<string, number>;
  put(name: string, at: number): void;
  delete(name: string): void;
}

export interface AlarmPort {
  /** Sets the one alarm to `at`, or clears it when `at` is null. */
  schedule(at: number | null): void;
}

export class Deadlines {
  constructor(
    private readonly store: DeadlineStore,
    private readonly alarm: AlarmPort,
  ) {}

  set(name: string, at: number): void {
    this.store.put(name, at);
    this.sync();
  }

  clear(name: string): void {
    this.store.delete(name);
    this.sync();
  }

  clearAll(): void {
    for (const name of this.store.all().keys()) this.store.delete(name);
    this.sync();
  }

  get(name: string): number | undefined {
    return this.store.all().get(name);
  }

  /** Removes and returns the names of the deadlines due at `now`, earliest first. */
  takeDue(now: number): string[] {
    const due = [...this.store.all()].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]);
    for (const [name] of due) this.store.delete(name);
    this.sync();
    return due.map(([name]) => name);
  }

  next(): number | null {
    let next: number | null = null;
    for (const at of this.store.all().values()) if (next === null || at < next) next = at;
    return next;
  }

  private sync(): void {
    this.alarm.schedule(this.next());
  }
}

/** An in-memory store, for tests and the simulator. */
export class MemoryDeadlineStore implements DeadlineStore {
  private readonly map = new Map<string, number>();
  all(): Map<string, number> {
    return new Map(this.map);
  }
  put(name: string, at: number): void {
    this.map.set(name, at);
  }
  delete(name: string): void {
    this.map.delete(name);
  }
}
