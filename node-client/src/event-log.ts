import { closeSync, openSync, writeSync } from "node:fs";
import type { LoopEvent } from "@propius/edge-runtime";
import { PropiusError } from "@propius/shared";

/**
 * One line of a device's event log: a task-loop event, when it happened (`at`, epoch ms, this
 * machine's clock) and which device it was; task events also name the job, round, attempt and kind.
 * Only the figures of an event are kept (not the task's model, plan or ticket), so a line stays short.
 */
export interface EventLogLine {
  at: number;
  device: string;
  type: LoopEvent["type"];
  job?: string;
  round?: number;
  /** The round's attempt, when the server names it. */
  attempt?: number;
  kind?: "train" | "evaluate";
  [figure: string]: string | number | boolean | null | undefined;
}

/** The log line of `event` from `device` at `at`. */
export function eventLogLine(device: string, event: LoopEvent, at: number): EventLogLine {
  const line: EventLogLine = { at, device, type: event.type };
  if ("task" in event) {
    const { task } = event;
    Object.assign(line, { job: task.jobId, round: task.round, ...(task.attempt === undefined ? {} : { attempt: task.attempt }), kind: task.kind ?? "train" });
  }
  return Object.assign(line, figuresOf(event));
}

function figuresOf(event: LoopEvent): Record<string, string | number | boolean | null> {
  switch (event.type) {
    case "wait":
      return { retryAfterMs: event.retryAfterMs, reason: event.reason, via: event.via };
    case "connection":
      return { state: event.state, detail: event.detail ?? null };
    case "offer":
      return { offers: event.offers, accepted: event.accepted };
    case "task":
      return {};
    case "downloaded":
      return { bytes: event.bytes };
    case "trained":
      return { millis: event.millis, examples: event.outcome.examples, trainLoss: event.outcome.trainLoss };
    case "uploaded":
      return { bytes: event.bytes, reported: event.reported, demand: event.demand };
    case "evaluated":
      return { millis: event.millis, examples: event.report.examples, accuracy: event.report.accuracy, loss: event.report.loss };
    case "refused":
      return { code: event.code, message: event.message };
    case "failed":
      return { code: event.failure.code, reported: event.reported };
    case "outage":
      return { message: event.message, failures: event.failures, retryInMs: event.retryInMs };
    case "stopped":
      return { reason: event.reason, tasks: event.tasks };
  }
}

export interface EventLog {
  write(device: string, event: LoopEvent): void;
  close(): void;
}

/**
 * Appends one JSON line per event to `path` (created if missing). Lines are written synchronously,
 * in the order the events happen: a device stopped by a signal loses none, and several devices of
 * one process share the file line by line.
 */
export function openEventLog(path: string, clock: () => number = Date.now): EventLog {
  const fd = openSync(path, "a");
  let open = true;
  return {
    write(device, event) {
      if (open) writeSync(fd, `${JSON.stringify(eventLogLine(device, event, clock()))}\n`);
    },
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** The lines of an event log's text; a last line cut short (a device killed mid-write) is left out. */
export function parseEventLog(text: string, source = "event log"): EventLogLine[] {
  const raws = text.split("\n").filter((raw) => raw.trim() !== "");
  return raws.flatMap((raw, i) => {
    try {
      return [JSON.parse(raw) as EventLogLine];
    } catch (error) {
      if (i === raws.length - 1 && !text.endsWith("\n")) return [];
      throw new PropiusError("invalid_json", `${source}, line ${i + 1}: ${(error as Error).message}`);
    }
  });
}
