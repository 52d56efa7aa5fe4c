import { describeTimings, roundTimings, type JobEvent, type JobState } from "@propius/shared";
import { fixed, jobLine } from "./format.js";

/** `jobs follow`'s human output: one line per event, a progress bar for a round's devices. */

/** States after which a job has no more events. */
export const ENDED: readonly JobState[] = ["done", "cancelled", "failed"];

/** `[########............] 8/20`: `n` of `of`, `width` characters wide. */
export function bar(n: number, of: number, width = 20): string {
  const filled = of > 0 ? Math.min(width, Math.round((n / of) * width)) : 0;
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${n}/${of}`;
}

const time = (ms: number) => new Date(ms).toISOString().slice(11, 23);

/** The line for one event, prefixed with the job's clock when it happened. */
export function eventLine(event: JobEvent): string {
  return `${time(event.at)}  ${describe(event)}`;
}

function describe(event: JobEvent): string {
  switch (event.type) {
    case "snapshot":
      return jobLine(event.status);
    case "state_changed":
      return `job ${event.from} -> ${event.to}`;
    case "round_opened":
      return `round ${event.round}${event.attempt > 0 ? ` (attempt ${event.attempt})` : ""} opened for ${event.demand} devices, model ${event.baseModel.slice(0, 12)}`;
    case "device_bound":
      return `round ${event.round} bound    ${bar(event.bound, event.demand)}`;
    case "update_accepted":
      return `round ${event.round} reported ${bar(event.reported, event.demand)}`;
    case "update_refused":
      return `round ${event.round} an update was refused: ${event.code}`;
    case "device_failed":
      return `round ${event.round} a device could not do its ${event.evaluation ? "evaluation" : "task"}: ${event.code}`;
    case "round_retried":
      return `round ${event.round} attempt ${event.attempt} retried: ${event.reported} reported, ${event.timedOut} timed out`;
    case "round_closed": {
      const r = event.record;
      return `round ${event.round} closed after ${describeTimings(roundTimings(r))}: ${r.reported} reports, train-loss ${fixed(r.trainLoss)}, model ${r.resultModel?.slice(0, 12) ?? "-"}`;
    }
    case "evaluation_recorded":
      return `round ${event.round} evaluated by ${event.by === "owner" ? "the owner" : `${event.reported ?? "the"} devices`}: accuracy ${fixed(event.accuracy)}, loss ${fixed(event.loss)}`;
  }
}

/** Whether the job has ended with this event (or was over when the subscription began). */
export function ends(event: JobEvent): boolean {
  if (event.type === "snapshot") return ENDED.includes(event.status.state);
  return event.type === "state_changed" && ENDED.includes(event.to);
}
