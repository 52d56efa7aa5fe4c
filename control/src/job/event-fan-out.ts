import type { JobEvent, JobEventDraft, JobStatus } from "@propius/shared";

/**
 * Where the job keeps its recent events and its sequence: SQLite in the Durable Object (so that
 * it outlasts the object leaving memory), memory in tests.
 */
export interface EventLog {
  state(): EventLogState;
  setState(state: EventLogState): void;
  /** Adds events and drops the oldest beyond the log's bound. */
  append(events: JobEvent[]): void;
  /** The events held with a sequence number above `seq`, oldest first. */
  after(seq: number): JobEvent[];
  /** The lowest sequence number held, or null when the log is empty. */
  oldest(): number | null;
}

export interface EventLogState {
  /** The last sequence number given out (to an event or a snapshot). */
  lastSeq: number;
  /** Every change after this sequence number was published: a subscriber that saw it may be replayed the rest. */
  recordedFrom: number;
}

/** A subscriber's connection, as the fan-out sees it. */
export interface EventSocket {
  send(text: string): void;
}

/**
 * A job's live events: numbers and stamps them, keeps them in a bounded log, and sends each to
 * every subscriber. Events are only made while someone listens (the job does no extra work for
 * an owner who is not watching); a change made meanwhile is noted, and a subscriber who connects
 * after it gets the current state. A subscriber who reconnects with the last sequence number it
 * saw is sent what it missed when the log holds all of it, else the current state, then the stream.
 */
export class EventFanOut {
  private cached: EventLogState | undefined;
  /**
   * The job may have changed while nobody listened. Kept in memory only: an object that starts
   * with no subscriber assumes it did (it cannot know what ran before), one that wakes with
   * subscribers still connected knows every change since the last one connected was published.
   */
  private unrecorded: boolean;

  constructor(
    private readonly log: EventLog,
    private readonly sockets: () => EventSocket[],
  ) {
    this.unrecorded = sockets().length === 0;
  }

  /** Whether anyone listens now (the job then derives its events; else it only notes a change). */
  get listening(): boolean {
    return this.sockets().length > 0;
  }

  /** Publishes `drafts` at `now` to every subscriber; with none, only notes that the job changed unrecorded. */
  publish(jobId: string, drafts: JobEventDraft[], now: number): JobEvent[] {
    if (drafts.length === 0) return [];
    const sockets = this.sockets();
    if (sockets.length === 0) {
      this.noteUnrecorded();
      return [];
    }
    const state = { ...this.state() };
    const events = drafts.map((draft) => ({ ...draft, seq: ++state.lastSeq, at: now, jobId }) as JobEvent);
    this.log.append(events);
    this.write(state);
    const texts = events.map((e) => JSON.stringify(e));
    for (const socket of sockets) for (const text of texts) send(socket, text);
    return events;
  }

  /** The job may have changed with nobody listening (no write: see `unrecorded`). */
  noteUnrecorded(): void {
    this.unrecorded = true;
  }

  /**
   * Starts a subscriber: the events after `since` when the log holds every one of them, else a
   * snapshot of the job (`status()`, numbered with the last sequence number). Says which it sent.
   */
  attach(socket: EventSocket, input: { jobId: string; since: number | null; now: number; status: () => JobStatus }): "replayed" | "snapshot" {
    let state = this.state();
    if (this.unrecorded) {
      // What changed unrecorded is one step nobody can be replayed across.
      state = { lastSeq: state.lastSeq + 1, recordedFrom: state.lastSeq + 1 };
      this.write(state);
      this.unrecorded = false;
    }
    const { since } = input;
    const oldest = this.log.oldest();
    const replayable = since !== null && since >= state.recordedFrom && since <= state.lastSeq && (since === state.lastSeq || (oldest !== null && oldest <= since + 1));
    if (replayable) {
      for (const event of this.log.after(since)) send(socket, JSON.stringify(event));
      return "replayed";
    }
    const snapshot: JobEvent = { type: "snapshot", seq: state.lastSeq, at: input.now, jobId: input.jobId, status: input.status() };
    send(socket, JSON.stringify(snapshot));
    return "snapshot";
  }

  private state(): EventLogState {
    return (this.cached ??= this.log.state());
  }

  private write(state: EventLogState): void {
    this.cached = state;
    this.log.setState(state);
  }
}

function send(socket: EventSocket, text: string): void {
  // A connection that closed meanwhile has nobody to tell; its subscriber resumes when it reconnects.
  try {
    socket.send(text);
  } catch {
    /* closed */
  }
}

/** An event log in memory, bounded to `limit` events. */
export function memoryEventLog(limit = 256): EventLog {
  let state: EventLogState = { lastSeq: 0, recordedFrom: 0 };
  const events: JobEvent[] = [];
  return {
    state: () => ({ ...state }),
    setState: (next) => (state = { ...next }),
    append(added) {
      events.push(...added);
      if (events.length > limit) events.splice(0, events.length - limit);
    },
    after: (seq) => events.filter((e) => e.seq > seq),
    oldest: () => events[0]?.seq ?? null,
  };
}
