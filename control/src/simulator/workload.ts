import { z } from "zod";
import type { Constraints } from "@propius/shared";

/** A job profile of a workload file (the schema of ../shared/data/paper-workload.json). */
const profileSchema = z.object({
  profile: z.number().int(),
  demand: z.number().int().min(1),
  total_rounds: z.number().int().min(1),
  over_selection: z.number().min(1),
  selection_timeout_s: z.number().positive(),
  report_timeout_s: z.number().positive(),
  local_steps: z.number().int().min(1),
  batch_size: z.number().int().min(1),
  /** Lower bounds on public device attributes. */
  public_constraint: z.record(z.string(), z.number()),
  /** Lower bounds on private attributes (checked on the device). */
  private_constraint: z.record(z.string(), z.number()),
});

export const workloadSchema = z
  .object({
    source: z.string().optional(),
    clients: z.number().int().min(1),
    model_size_kbit: z.number().positive(),
    profiles: z.array(profileSchema).min(1),
    arrivals: z.array(z.object({ arrival_s: z.number().min(0), profile: z.number().int() })).min(1),
  })
  .refine((w) => w.arrivals.every((a) => w.profiles.some((p) => p.profile === a.profile)), { message: "every arrival must name a profile" });

export type Workload = z.output<typeof workloadSchema>;
export type WorkloadProfile = z.output<typeof profileSchema>;

/** One job of the simulated workload. */
export interface SimJobSpec {
  id: string;
  /** The workload profile the job runs. */
  profile: number;
  arrivalS: number;
  demand: number;
  rounds: number;
  overCommit: number;
  selectionTimeoutS: number;
  reportTimeoutS: number;
  /** Samples trained per task: local steps x batch size. */
  samplesPerTask: number;
  constraints: Constraints;
  privateConstraints: Constraints;
  /** The raw lower bounds, for the independent invariant check. */
  publicMin: Record<string, number>;
  privateMin: Record<string, number>;
}

const lowerBounds = (bounds: Record<string, number>): Constraints =>
  Object.fromEntries(Object.entries(bounds).map(([name, min]) => [name, { min }]));

/** The jobs of a workload, in arrival order; job ids follow arrival order ("job-00", ...). */
export function workloadJobs(workload: Workload): SimJobSpec[] {
  const width = String(workload.arrivals.length - 1).length;
  return [...workload.arrivals]
    .map((a, i) => ({ ...a, i }))
    .sort((a, b) => a.arrival_s - b.arrival_s || a.i - b.i)
    .map((arrival, n) => {
      const p = workload.profiles.find((profile) => profile.profile === arrival.profile)!;
      return {
        id: `job-${String(n).padStart(width, "0")}`,
        profile: arrival.profile,
        arrivalS: arrival.arrival_s,
        demand: p.demand,
        rounds: p.total_rounds,
        overCommit: p.over_selection,
        selectionTimeoutS: p.selection_timeout_s,
        reportTimeoutS: p.report_timeout_s,
        samplesPerTask: p.local_steps * p.batch_size,
        constraints: lowerBounds(p.public_constraint),
        privateConstraints: lowerBounds(p.private_constraint),
        publicMin: p.public_constraint,
        privateMin: p.private_constraint,
      };
    });
}
