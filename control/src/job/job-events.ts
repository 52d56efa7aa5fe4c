import type { ErrorCode, JobStatus, RoundRecord } from "@propius/shared";
import { diffViews, viewOf, type JobReader, type JobView } from "./event-diff.js";
import type { EventFanOut, EventSocket } from "./event-fan-out.js";

/**
 * The job's live events as its Durable Object drives them: every call begins and ends with a
 * look at what the job stores, and what changed since the last look is published (see
 * event-diff.ts). Calls interleave at their awaits, so the comparison is always with the last view
 * published, never with the view a call began with: a change is published once, by the first call
 * to end after it. With nobody listening nothing is read (only the fact that the job may have
 * changed is noted).
 */
export class JobEvents {
  /** The job as the last published event left it, while someone listens. */
  private published: JobView | null = null;

  constructor(
    private readonly fanOut: EventFanOut,
    private readonly read: JobReader,
    private readonly status: () => JobStatus,
  ) {}

  /** Before a call: the view to compare with, if someone listens and none is held (the object just woke). */
  begin(): void {
    if (!this.fanOut.listening) {
      this.published = null;
      this.fanOut.noteUnrecorded();
    } else this.published ??= viewOf(this.read);
  }

  /** After a call, or where a call wants its news out at once: publishes what changed since the last view. */
  flush(now: number): void {
    if (!this.fanOut.listening) {
      this.published = null;
      this.fanOut.noteUnrecorded();
      return;
    }
    const job = this.read.job();
    if (!job) return;
    if (!this.published) {
      // Someone connected after this call began: the snapshot it was sent may predate the call's changes.
      this.published = viewOf(this.read);
      this.fanOut.publish(job.id, [{ type: "snapshot", status: this.status() }], now);
      return;
    }
    const after = viewOf(this.read, this.published);
    const drafts = diffViews(this.published, after);
    this.published = after;
    this.fanOut.publish(job.id, drafts, now);
  }

  /** Runs one call between `begin` and `flush`. */
  async observe<T>(fn: () => Promise<T>, now: () => number): Promise<T> {
    this.begin();
    try {
      return await fn();
    } finally {
      this.flush(now());
    }
  }

  /** An upload the job refused with `code` (its state did not change, so no comparison shows it). */
  refused(jobId: string, round: number, code: ErrorCode, now: number): void {
    this.fanOut.publish(jobId, [{ type: "update_refused", round, code }], now);
  }

  /** The owner recorded a round's test metrics. */
  ownerEvaluation(jobId: string, record: RoundRecord, now: number): void {
    this.fanOut.publish(jobId, [{ type: "evaluation_recorded", round: record.round, by: "owner", accuracy: record.testAccuracy, loss: record.testLoss }], now);
  }

  /**
   * A new subscriber: news pending for the others goes out first (before `accept` adds it to the
   * listeners, so that it is not sent what its snapshot holds), then its snapshot or replay.
   */
  attach(accept: () => EventSocket, jobId: string, since: number | null, now: number): "replayed" | "snapshot" {
    if (this.published) this.flush(now);
    const socket = accept();
    const sent = this.fanOut.attach(socket, { jobId, since, now, status: this.status });
    this.published = viewOf(this.read);
    return sent;
  }
}
