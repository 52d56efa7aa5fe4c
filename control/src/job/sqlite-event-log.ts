import type { JobEvent } from "@propius/shared";
import type { EventLog, EventLogState } from "./event-fan-out.js";
import { applySchema, type SqlPort } from "../storage/sql-port.js";
import { countWrites } from "../diagnostics/object-counters.js";

/** Events a job keeps for subscribers that reconnect (about a few rounds of a job with tens of devices). */
export const EVENT_LOG_LIMIT = 512;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS event_state (id INTEGER PRIMARY KEY CHECK (id = 0), last_seq INTEGER NOT NULL, recorded_from INTEGER NOT NULL); 
`;

/** The job's event log in its Durable Object's SQLite database, bounded to `limit` events. */
export function sqliteEventLog(raw: SqlPort, limit = EVENT_LOG_LIMIT): EventLog {
  const sql = countWrites(raw);
  applySchema(raw, SCHEMA);
  return {
    state(): EventLogState {
      const [row] = sql.exec("SELECT last_seq, recorded_from FROM event_state WHERE id = 0").toArray();
      return row ? { lastSeq: Number(row.last_seq), recordedFrom: Number(row.recorded_from) } : { lastSeq: 0, recordedFrom: 0 };
    },
    setState(state) {
      sql.exec(
        "INSERT INTO event_state (id, last_seq, recorded_from) VALUES (0, ?, ?) ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, recorded_from = excluded.recorded_from",
        state.lastSeq, state.recordedFrom,
      );
    },
    append(events) {
      if (events.length === 0) return;
      for (const event of events) sql.exec("INSERT OR REPLACE INTO events (seq, body) VALUES (?, ?)", event.seq, JSON.stringify(event));
      sql.exec("DELETE FROM events WHERE seq <= ?", events[events.length - 1].seq - limit);
    },
    after: (seq) => sql.exec("SELECT body FROM events WHERE seq > ? ORDER BY seq", seq).toArray().map((r) => JSON.parse(r.body as string) as JobEvent),
    oldest() {
      const [row] = sql.exec("SELECT MIN(seq) AS seq FROM events").toArray();
      return row?.seq == null ? null : Number(row.seq);
    },
  };
}
