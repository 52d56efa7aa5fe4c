import { roundTimings, type JobEvent, type JobState, type JobStatus, type RoundRecord, type RoundTimings } from "@propius/shared";

/** One round as the dashboard charts it: the latest attempt's counts, the closed record's figures, the evaluations. */
export interface RoundRow {
  round: number;
  attempt: number;
  status: RoundRecord["status"];
  demand: number;
  bound: number;
  reported: number;
  /** Devices that reported they could not train (evaluation tasks are not counted). */
  failed: number;
  trainLoss: number | null;
  /** The owner's evaluation (`POST .../rounds/:round/metrics`). */
  testAccuracy: number | null;
  testLoss: number | null;
  /** The devices' evaluation on their held-out examples (federated evaluation). */
  evalAccuracy: number | null;
  evalLoss: number | null;
  bytesIn: number;
  bytesOut: number;
  /** closedAt - openedAt of the attempt that closed, in seconds; null while open. */
  durationSeconds: number | null;
  /** Its phases, in seconds: selection (open until its demand was bound), training (until it had its reports), aggregation (until it closed); null until each ended. */
  selectionSeconds: number | null;
  trainingSeconds: number | null;
  aggregationSeconds: number | null;
}

const sum = (counts: Partial<Record<string, number>>) => Object.values(counts).reduce<number>((a, b) => a + (b ?? 0), 0);

const secondsOf = (t: RoundTimings) => ({ durationSeconds: t.total, selectionSeconds: t.selection, trainingSeconds: t.training, aggregationSeconds: t.aggregation });

function rowOf(record: RoundRecord): RoundRow {
  return {
    round: record.round, attempt: record.attempt, status: record.status, demand: record.demand, bound: record.bound,
    reported: record.reported, failed: sum(record.failed), trainLoss: record.trainLoss, testAccuracy: record.testAccuracy,
    testLoss: record.testLoss, evalAccuracy: record.evaluation?.accuracy ?? null, evalLoss: record.evaluation?.loss ?? null,
    bytesIn: record.bytesIn, bytesOut: record.bytesOut,
    ...secondsOf(roundTimings(record)),
  };
}

/**
 * A job as its event stream builds it: the snapshot a subscription starts with, then every event
 * folded in, so the page never polls. Rounds are keyed by number; a retried round's next attempt
 * replaces the row's counts. `apply` says whether the event changed what the page shows.
 */
export class JobRounds {
  status: JobStatus | null = null;
  state: JobState | null = null;
  currentRound = 0;
  /** Events refused before counting (by error code), over the whole job. */
  readonly refused = new Map<string, number>();
  private readonly rows = new Map<number, RoundRow>();

  /** The rounds in order. */
  get list(): RoundRow[] {
    return [...this.rows.values()].sort((a, b) => a.round - b.round);
  }

  apply(event: JobEvent): boolean {
    switch (event.type) {
      case "snapshot":
        this.status = event.status;
        this.state = event.status.state;
        this.currentRound = event.status.currentRound;
        this.rows.clear();
        // Attempts come in order: a later attempt of a round replaces the earlier one.
        for (const record of event.status.rounds) this.rows.set(record.round, rowOf(record));
        return true;
      case "state_changed":
        this.state = event.to;
        return true;
      case "round_opened":
        this.currentRound = event.round;
        this.rows.set(event.round, {
          ...rowOf({ round: event.round, attempt: event.attempt, status: "open", demand: event.demand, bound: 0, reported: 0, failed: {}, timedOut: 0, examples: 0, trainLoss: null, testAccuracy: null, testLoss: null, bytesIn: 0, bytesOut: 0, openedAt: event.at, closedAt: null, baseModel: event.baseModel, resultModel: null }),
        });
        return true;
      case "device_bound":
        return this.patch(event.round, { bound: event.bound, demand: event.demand });
      case "update_accepted":
        return this.patch(event.round, { reported: event.reported });
      case "device_failed": {
        const row = this.rows.get(event.round);
        if (event.evaluation || !row) return false;
        return this.patch(event.round, { failed: row.failed + 1 });
      }
      case "update_refused":
        this.refused.set(event.code, (this.refused.get(event.code) ?? 0) + 1);
        return true;
      case "round_retried":
        return this.patch(event.round, { status: "retried" });
      case "round_closed": {
        const previous = this.rows.get(event.round);
        const row = rowOf(event.record);
        // The evaluations may have been recorded before the close reached us; keep them.
        this.rows.set(event.round, { ...row, evalAccuracy: row.evalAccuracy ?? previous?.evalAccuracy ?? null, evalLoss: row.evalLoss ?? previous?.evalLoss ?? null });
        return true;
      }
      case "evaluation_recorded":
        if (event.by === "owner") return this.patch(event.round, { testAccuracy: event.accuracy, testLoss: event.loss });
        return this.patch(event.round, { evalAccuracy: event.accuracy, evalLoss: event.loss });
    }
  }

  private patch(round: number, change: Partial<RoundRow>): boolean {
    const row = this.rows.get(round);
    if (!row) return false;
    this.rows.set(round, { ...row, ...change });
    return true;
  }
}
