import type { RoundRecord } from "./responses.js";

/** A round attempt's time in seconds: open to close, and its phases; null where a stamp is missing (still open, or an older record). */
export interface RoundTimings {
  total: number | null;
  /** Open until its demand was bound. */
  selection: number | null;
  /** Until it had the reports to close. */
  training: number | null;
  /** Until the next model was made and the round closed. */
  aggregation: number | null;
}

const between = (from: number | null | undefined, to: number | null | undefined) => (from == null || to == null ? null : (to - from) / 1000);

export function roundTimings(record: Pick<RoundRecord, "openedAt" | "selectedAt" | "aggregatingAt" | "closedAt">): RoundTimings {
  return {
    total: between(record.openedAt, record.closedAt),
    selection: between(record.openedAt, record.selectedAt),
    training: between(record.selectedAt, record.aggregatingAt),
    aggregation: between(record.aggregatingAt, record.closedAt),
  };
}

/** `12.3 s (selection 1.0, training 10.8, aggregation 0.5)`, or `-` while open. */
export function describeTimings(t: RoundTimings): string {
  if (t.total === null) return "-";
  const phases = [["selection", t.selection], ["training", t.training], ["aggregation", t.aggregation]].filter((p): p is [string, number] => p[1] !== null);
  return `${t.total.toFixed(1)} s${phases.length ? ` (${phases.map(([name, s]) => `${name} ${s.toFixed(1)}`).join(", ")})` : ""}`;
}
