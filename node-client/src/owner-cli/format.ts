import { roundTimings, summarizeAttributes, summarizeFailures, type JobDevice, type JobStatus, type JobSummary, type RoundRecord, type Starvation } from "@propius/shared";

/** Human output of the owner CLI: aligned tables and one-line summaries. */

/** Columns padded to their widest cell; numbers (and cells that read as numbers) right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^-?[\d.]+$|^-$/.test(r[i])));
  const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** A time as UTC, to the second: `2026-12-03 07:04:05Z`. */
export const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}Z`;

/** A figure to `digits` places, or `-` when there is none. */
export const fixed = (value: number | null | undefined, digits = 4) => (value === null || value === undefined ? "-" : value.toFixed(digits));

export function jobList(jobs: JobSummary[]): string {
  if (jobs.length === 0) return "no jobs yet: `propius jobs create <spec.json>` registers one";
  return table(["id", "name", "state", "created"], jobs.map((j) => [j.id, j.name, j.state, utc(j.createdAt)]));
}

/** One line: the job, its state and round, its model version. */
export function jobLine(status: JobStatus): string {
  const model = status.modelHash ? `model v${status.modelVersion} ${status.modelHash.slice(0, 12)}` : "no model yet";
  return `${status.id} (${status.name}): ${status.state}, round ${status.currentRound} of ${status.totalRounds}, ${model}`;
}

const failedCount = (failed: RoundRecord["failed"]) => Object.values(failed).reduce((n, k) => n + (k ?? 0), 0);

/** A running job's supply of devices: starved when fewer eligible devices were seen than a round needs reports. */
export function supplyLine(s: Starvation): string {
  const seen = `${s.eligibleDevices} eligible devices seen in the last ${s.windowSeconds} s`;
  const needs = `a round needs ${s.minimumReports} reports (demand ${s.demand})`;
  const retried = s.attemptsRetried > 0 ? `; ${s.attemptsRetried} attempt${s.attemptsRetried > 1 ? "s" : ""} of this round retried` : "";
  const held = s.admitted ? "" : "; the scheduler holds its rounds back, binding no device, until enough are online";
  return s.starved ? `STARVED: ${seen}, ${needs}${retried}${held}` : `devices: ${seen}, ${needs}${retried}`;
}

/** `jobs devices`: a row per device, the most recently seen first. */
export function deviceList(devices: JobDevice[]): string {
  if (devices.length === 0) return "no device has taken part in this job yet";
  const rows = devices.map((d) => [
    d.id, summarizeAttributes(d.attributes, 40) || "-", String(d.roundsBound), String(d.updatesAccepted), String(d.examples), String(d.bytesIn),
    summarizeFailures(d.failures) || "-", String(d.evaluationsReported), utc(d.lastSeen),
  ]);
  return table(["device", "attributes", "rounds", "updates", "examples", "bytes-in", "failures", "evals", "last-seen"], rows);
}

/** `jobs show`: the job's line, its plan's figures and a row per round attempt. */
export function jobDetails(status: JobStatus): string {
  const { plan, aggregation } = status.spec;
  const lines = [
    jobLine(status),
    `created ${utc(status.createdAt)}, updated ${utc(status.updatedAt)}; ${plan.clientsPerRound} devices per round, ${aggregation.strategy}`,
  ];
  if (status.state === "pending_model") lines.push(`waiting for its initial model: \`propius jobs seed ${status.id} --weights <file>\` opens round 1`);
  if (status.starvation) lines.push(supplyLine(status.starvation));
  if (status.failure) lines.push(`FAILED: ${status.failure}`);
  if (status.rounds.length === 0) return lines.join("\n");
  const rows = status.rounds.map((r) => {
    const t = roundTimings(r);
    return [
      String(r.round), String(r.attempt), r.status, String(r.demand), String(r.bound), String(r.reported), String(failedCount(r.failed) + r.timedOut),
      fixed(r.trainLoss), fixed(r.evaluation?.accuracy), fixed(r.testAccuracy),
      ...[t.total, t.selection, t.training, t.aggregation].map((s) => (s === null ? "-" : s.toFixed(1))),
    ];
  });
  lines.push("", table(["round", "attempt", "status", "demand", "bound", "reported", "failed", "train-loss", "fed-acc", "test-acc", "seconds", "select", "train", "aggregate"], rows));
  return lines.join("\n");
}
