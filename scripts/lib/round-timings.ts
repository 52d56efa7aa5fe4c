import type { RoundRecord } from "@propius/shared";
import type { EventLogLine } from "@propius/node-client";
import { median, quantile } from "./stats.js";

/**
 * One round's wall time set against the work of its slowest device. Server times (the round's
 * open and close) and device times (event logs) are read from the same machine's clock.
 */
export interface RoundTiming {
  round: number;
  /** Attempts the round took (more than 1 after a deadline with too few reports). */
  attempts: number;
  /** From the round's first attempt opening to the closed attempt's close (aggregation included), ms. */
  wallMs: number;
  /** The slowest reporting device of the closed attempt: task received to upload acknowledged, ms. */
  ceilingMs: number;
  /** That device's download (task received to model in hand), training and upload (trained to acknowledged), ms. */
  slowest: { device: string; downloadMs: number; trainMs: number; uploadMs: number };
  /** The longest training of the round, whichever device it was, ms. */
  maxTrainMs: number;
  ratio: number;
  /** From the round opening to its first training task handed out, and to its last one (of a device that reported), ms. */
  firstTaskMs: number;
  lastTaskMs: number;
  /** From the last acknowledged upload to the round's close, ms. */
  closeMs: number;
  /** For each of the round's reporting devices that was given another task: from its upload to that task (of any kind), ms. */
  idleGapsMs: number[];
  /** Mean, over the round's reporting devices, of the evaluation work they did between the round opening and their training task, ms. */
  evaluatingMs: number;
  devices: number;
}

interface DeviceRound { device: string; taskAt: number; downloadedAt: number; trainMs: number; trainedAt: number; uploadedAt: number }

const sameTask = (line: EventLogLine, job: string, round: number, attempt: number) =>
  line.job === job && line.round === round && (line.attempt ?? 0) === attempt && line.kind === "train";

/** The timings of every closed round of `job`, from its round records and its devices' event lines. */
export function roundTimings(job: string, records: readonly RoundRecord[], lines: readonly EventLogLine[]): RoundTiming[] {
  const byDevice = new Map<string, EventLogLine[]>();
  for (const line of [...lines].sort((a, b) => a.at - b.at)) byDevice.set(line.device, [...(byDevice.get(line.device) ?? []), line]);
  const closed = records.filter((r) => r.status === "closed" && r.closedAt !== null).sort((a, b) => a.round - b.round);
  return closed.map((record) => {
    const attempts = records.filter((r) => r.round === record.round);
    const openedAt = Math.min(...attempts.map((r) => r.openedAt));
    const devices = [...byDevice.entries()].flatMap(([device, own]) => {
      const found = deviceRound(device, own, job, record.round, record.attempt);
      return found ? [{ ...found, own }] : [];
    });
    if (devices.length === 0) throw new RangeError(`round ${record.round}: no device's event log has an acknowledged upload for it`);
    const slowest = devices.reduce((a, b) => (b.uploadedAt - b.taskAt > a.uploadedAt - a.taskAt ? b : a));
    const ceilingMs = slowest.uploadedAt - slowest.taskAt;
    const wallMs = record.closedAt! - openedAt;
    const idle = devices.flatMap((d) => {
      const next = d.own.find((l) => l.type === "task" && l.at >= d.uploadedAt);
      return next ? [next.at - d.uploadedAt] : [];
    });
    return {
      round: record.round,
      attempts: attempts.length,
      wallMs,
      ceilingMs,
      slowest: { device: slowest.device, downloadMs: slowest.downloadedAt - slowest.taskAt, trainMs: slowest.trainMs, uploadMs: slowest.uploadedAt - slowest.trainedAt },
      maxTrainMs: Math.max(...devices.map((d) => d.trainMs)),
      ratio: wallMs / ceilingMs,
      firstTaskMs: Math.min(...devices.map((d) => d.taskAt)) - openedAt,
      lastTaskMs: Math.max(...devices.map((d) => d.taskAt)) - openedAt,
      closeMs: record.closedAt! - Math.max(...devices.map((d) => d.uploadedAt)),
      idleGapsMs: idle,
      evaluatingMs: mean(devices.map((d) => evaluationWork(d.own, openedAt, d.taskAt))),
      devices: devices.length,
    };
  });
}

/** A device's training task of this round attempt, when it ended in an acknowledged upload. */
function deviceRound(device: string, own: readonly EventLogLine[], job: string, round: number, attempt: number): DeviceRound | null {
  const uploadAt = own.findIndex((l) => l.type === "uploaded" && sameTask(l, job, round, attempt));
  if (uploadAt < 0) return null;
  // The task the upload answered: the last one handed out before it (a device given its task again keeps the ticket).
  const before = own.slice(0, uploadAt);
  const task = before.findLast((l) => l.type === "task" && sameTask(l, job, round, attempt));
  const downloaded = before.findLast((l) => l.type === "downloaded" && sameTask(l, job, round, attempt));
  const trained = before.findLast((l) => l.type === "trained" && sameTask(l, job, round, attempt));
  if (!task || !downloaded || !trained) throw new RangeError(`round ${round}: device ${device} uploaded without a task, download or training logged before`);
  return { device, taskAt: task.at, downloadedAt: downloaded.at, trainMs: Number(trained.millis), trainedAt: trained.at, uploadedAt: own[uploadAt].at };
}

/** Time a device spent on evaluation tasks handed out in [from, to): task received to report sent. */
function evaluationWork(own: readonly EventLogLine[], from: number, to: number): number {
  let total = 0;
  for (const [i, line] of own.entries()) {
    if (line.type !== "task" || line.kind !== "evaluate" || line.at < from || line.at >= to) continue;
    const end = own.slice(i + 1).find((l) => l.round === line.round && l.kind === "evaluate" && (l.type === "evaluated" || l.type === "failed" || l.type === "refused"));
    total += (end?.at ?? to) - line.at;
  }
  return total;
}

export const mean = (values: number[]) => (values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length);

export interface RoundSummary {
  /** Rounds the figures are over: all but the first `skip` (cold caches, devices still starting). */
  rounds: number;
  medianRatio: number;
  p90Ratio: number;
  /** Mean over those rounds' devices of the time from their upload to their next task, ms. */
  meanIdleMs: number | null;
  /** Median over those rounds of the time from the round opening to its last training task handed out, ms. */
  medianLastTaskMs: number;
}

/** Median and p90 of the wall / ceiling ratio and the mean idle time, leaving out the first `skip` rounds. */
export function summarize(timings: readonly RoundTiming[], skip = 1): RoundSummary {
  const counted = timings.filter((t) => t.round > skip);
  const ratios = counted.map((t) => t.ratio);
  const idle = counted.flatMap((t) => t.idleGapsMs);
  return {
    rounds: counted.length,
    medianRatio: ratios.length ? median(ratios) : Number.NaN,
    p90Ratio: ratios.length ? quantile(ratios, 0.9) : Number.NaN,
    meanIdleMs: idle.length === 0 ? null : mean(idle),
    medianLastTaskMs: counted.length ? median(counted.map((t) => t.lastTaskMs)) : Number.NaN,
  };
}
