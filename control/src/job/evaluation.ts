import type { EvaluationRecord, EvaluationReport, FailureCode, JobSpec } from "@propius/shared";
import { slotCapacity } from "./round-slots.js";

/**
 * Federated evaluation of a job's model, free of storage and platform (Flower's configure_evaluate
 * and aggregate_evaluate): which rounds' results are evaluated, how many devices evaluate each,
 * how reports combine (weighted by their examples) and when an evaluation closes. JobCore keeps
 * the record on the round whose result it evaluates and runs it beside the next round.
 */

/** Whether the result of `round` is evaluated: every `everyRounds`-th round, and the last. */
export function evaluationDue(spec: Pick<JobSpec, "evaluation" | "plan">, round: number): boolean {
  const plan = spec.evaluation;
  return plan !== undefined && (round % plan.everyRounds === 0 || round >= spec.plan.rounds);
}

export function openEvaluation(spec: Pick<JobSpec, "evaluation" | "plan">, model: string, now: number): EvaluationRecord {
  return {
    status: "open", model, demand: spec.evaluation?.clients ?? spec.plan.clientsPerRound,
    bound: 0, reported: 0, failed: {}, examples: 0, accuracy: null, loss: null, openedAt: now, closedAt: null,
  };
}

/** Devices an evaluation may bind: its demand times the plan's over-commit, as a round. */
export function evaluationCapacity(record: EvaluationRecord, overCommit: number): number {
  return slotCapacity({ demand: record.demand, overCommit });
}

/** The record with one more device's report folded in; accuracy and loss stay example-weighted means. */
export function addReport(record: EvaluationRecord, report: EvaluationReport): EvaluationRecord {
  const examples = record.examples + report.examples;
  const mean = (old: number | null, value: number) => ((old ?? 0) * record.examples + value * report.examples) / examples;
  return { ...record, reported: record.reported + 1, examples, accuracy: mean(record.accuracy, report.accuracy), loss: mean(record.loss, report.loss) };
}

export function addFailure(record: EvaluationRecord, code: FailureCode): EvaluationRecord {
  return { ...record, failed: { ...record.failed, [code]: (record.failed[code] ?? 0) + 1 } };
}

/** An evaluation closes when its demand has reported (or at its deadline, with what it has). */
export function evaluationComplete(record: EvaluationRecord): boolean {
  return record.reported >= record.demand;
}

export function closeEvaluation(record: EvaluationRecord, now: number): EvaluationRecord {
  return { ...record, status: "closed", closedAt: now };
}
