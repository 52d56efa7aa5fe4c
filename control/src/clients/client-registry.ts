import type { Attributes } from "@propius/shared";

/** A device as its client manager knows it: the public attributes it last reported, and when it was last heard from. */
export interface ClientRecord {
  clientId: string;
  attributes: Attributes;
  lastSeen: number;
}

/** The job (and round) a device holds a slot in, until its lease ends. */
export interface Binding {
  jobId: string;
  round: number;
  boundAt: number;
  leaseUntil: number;
}

/**
 * A client manager's durable state, injected into its state machine: SQLite inside the Durable
 * Object, memory in unit tests. Records older than the registry's TTL are pruned.
 */
export interface ClientRegistry {
  upsert(record: ClientRecord): void;
  /** A registered device's record, or null (never registered, or pruned). */
  get(clientId: string): ClientRecord | null;
  /** Refreshes `lastSeen`; false when the device is not registered (or was pruned). */
  touch(clientId: string, now: number): boolean;
  /** Devices heard from at or after `since`. */
  seenSince(since: number): ClientRecord[];
  binding(clientId: string): Binding | null;
  setBinding(clientId: string, binding: Binding | null): void;
  /** Removes devices (and their bindings) not heard from since `before`; returns how many. */
  prune(before: number): number;
  /** Devices registered (not pruned yet). */
  count(): number;
}

export class MemoryClientRegistry implements ClientRegistry {
  private readonly records = new Map<string, ClientRecord>();
  private readonly bindings = new Map<string, Binding>();

  upsert(record: ClientRecord): void {
    this.records.set(record.clientId, { ...record, attributes: { ...record.attributes } });
  }

  touch(clientId: string, now: number): boolean {
    const record = this.records.get(clientId);
    if (record) record.lastSeen = now;
    return record !== undefined;
  }

  get(clientId: string): ClientRecord | null {
    const record = this.records.get(clientId);
    return record ? { ...record, attributes: { ...record.attributes } } : null;
  }

  seenSince(since: number): ClientRecord[] {
    return [...this.records.values()].filter((r) => r.lastSeen >= since).map((r) => ({ ...r }));
  }

  binding(clientId: string): Binding | null {
    const binding = this.bindings.get(clientId);
    return binding ? { ...binding } : null;
  }

  setBinding(clientId: string, binding: Binding | null): void {
    if (binding) this.bindings.set(clientId, { ...binding });
    else this.bindings.delete(clientId);
  }

  count(): number {
    return this.records.size;
  }

  prune(before: number): number {
    let removed = 0;
    for (const [id, record] of this.records) {
      if (record.lastSeen >= before) continue;
      this.records.delete(id);
      this.bindings.delete(id);
      removed += 1;
    }
    return removed;
  }
}
