import { jobCount, type Ratio } from "./comparison.js";
import { NOTES_END, NOTES_START } from "./report.js";
import type { CellResult, SweepOptions } from "./sweep.js";
import { GENERATOR_DEFAULTS } from "./workload-generator.js";
import { CONTENDED_AVG_JCT_TARGET, summarizeContended, summarizeLevels, type ContendedSummary, type LevelSummary, type RatioSummary } from "./sweep-summary.js";

export interface SweepReportInput {
  cells: CellResult[];
  options: SweepOptions;
  command: string;
  /** nproc, CPU model, RAM and Node version. */
  machine: string;
  date: string;
  totalWallS: number;
  notes: string | null;
}

const times = (v: number | null) => (v === null ? "-" : `${v.toFixed(2)}x`);
const deviceHours = (s: number | null) => (s === null ? "-" : (s / 3600).toFixed(0));
const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
const rule = (n: number) => `| --- |${" ---: |".repeat(n - 1)}`;

/** "1.41x (3 of 3 workloads, over 31 jobs)": the geometric mean and what it rests on. */
function summaryCell(s: RatioSummary, jct: boolean): string {
  return `${times(s.geoMean)} (${s.defined} of ${s.of}${jct ? `, over ${jobCount(s.jobs)}` : ""})`;
}

/** "1.33x (irs, 11 jobs)": one workload's ratio, the policy it names and the jobs both completed; "-" when undefined. */
function ratioCell(r: Ratio | null, jct: boolean): string {
  if (r?.value == null) return jct ? `- (${jobCount(r?.jobs ?? 0)})` : "-";
  return `${times(r.value)} (${jct ? `${r.over}, ${jobCount(r.jobs)}` : r.of})`;
}

/** "1.52x (10 jobs)": FIFO's average JCT over the same jobs' alone; "-" when undefined. */
function contentionCell(c: CellResult["comparison"]["contention"]): string {
  return c?.value == null ? `- (${jobCount(c?.jobs ?? 0)})` : `${times(c.value)} (${jobCount(c.jobs)})`;
}

function levelTable(levels: LevelSummary[]): string {
  const head = [
    "scarcity", "measured: median / min", "utilization: best / static-partition", "contention: FIFO / alone", "average JCT: FIFO / best", "p95 JCT: FIFO / best", "wasted device-h, admission on / off",
    "jobs of ratio >= 1 the best completed", "best's jobs stalled",
  ];
  const rows = levels.map((l) =>
    row([
      String(l.level), `${l.medianScarcity.toFixed(2)} / ${l.minScarcity.toFixed(2)}`, summaryCell(l.utilization, false), summaryCell(l.contention, true), summaryCell(l.avgJct, true), summaryCell(l.p95Jct, true),
      `${deviceHours(l.wastedWithAdmissionS)} / ${deviceHours(l.wastedWithoutAdmissionS)}`,
      `${l.feasibleCompleted} of ${l.feasibleJobs}`, String(l.stalledJobs),
    ]),
  );
  return [row(head), rule(head.length), ...rows].join("\n");
}

/** "Where jobs contend (scarcity 1 to 4, 9 workloads): ...": the two figures the scheduler is judged on. */
export function contendedLine(c: ContendedSummary): string {
  const scope = `Where jobs contend (scarcity ${c.from} to ${c.to}, ${c.workloads} workloads)`;
  if (c.workloads === 0) return `${scope}: none in this sweep.`;
  const reached = c.medianAvgJct !== null && c.medianAvgJct >= CONTENDED_AVG_JCT_TARGET && c.p95NoWorse === c.p95Defined;
  return (
    `${scope}: the median of the best central policy's average JCT against FIFO's is ${times(c.medianAvgJct)}; that policy's p95 JCT is no worse than FIFO's on ${c.p95NoWorse} of ${c.p95Defined} (the lowest FIFO / best p95 ratio: ${times(c.minP95Jct)}). ` +
    `Target: a median of at least ${times(CONTENDED_AVG_JCT_TARGET)}, and p95 no worse on every workload: ${reached ? "reached" : "not reached"}.`
  );
}

function outcomeTable(levels: LevelSummary[]): string {
  const policies = levels[0]?.outcomes.map((o) => o.policy) ?? [];
  const rows = levels.map((l) => row([String(l.level), ...l.outcomes.map((o) => `${o.completed} / ${o.waiting} / ${o.stalled} / ${o.failed} / ${o.running}`)]));
  return [row(["scarcity", ...policies]), rule(policies.length + 1), ...rows].join("\n");
}

function workloadTable(cells: CellResult[]): string {
  const policies = cells[0]?.results.map((r) => r.policy) ?? [];
  const head = [
    "scarcity", "seed", "median / min", `jobs completed (${policies.join(", ")})`, "utilization: best / static", "contention: FIFO / alone", "avg JCT: FIFO / best", "p95 JCT: FIFO / best", "best central",
    "wasted device-h, on / off",
  ];
  const rows = cells.map((c) =>
    row([
      String(c.level), String(c.seed), `${c.scarcity.median.toFixed(2)} / ${c.scarcity.min.toFixed(2)}`, c.results.map((r) => r.jobsCompleted).join(", "),
      ratioCell(c.comparison.utilization, false), contentionCell(c.comparison.contention), ratioCell(c.comparison.avgJct, true), ratioCell(c.comparison.p95Jct, true), c.comparison.best ?? "-",
      `${deviceHours(c.comparison.wastedWithAdmissionS)} / ${deviceHours(c.comparison.wastedWithoutAdmissionS)}`,
    ]),
  );
  return [row(head), rule(head.length), ...rows].join("\n");
}

/** The sweep's JSON, indented, with each job's result on one line. */
export function sweepJson(data: object): string {
  return `${JSON.stringify(data, null, 1).replace(/\{\n\s*"id": "job-[^}]*\}/g, (job) => job.replace(/\n\s*/g, " "))}\n`;
}

/** docs/scheduling-sweep.md: setup, the ratios by scarcity level, jobs by outcome, and every workload. */
export function sweepMarkdown(input: SweepReportInput): string {
  const { options } = input;
  const levels = summarizeLevels(input.cells);
  const g = GENERATOR_DEFAULTS;
  return [
    "# Scheduling under scarcity",
    "",
    `Generated by \`${input.command}\` on ${input.date} (${input.machine}; ${input.totalWallS.toFixed(0)} s wall time). The JSON beside this file has every run.`,
    "",
    "## Setup",
    "",
    `- Workloads: for each scarcity level and seed (${options.seeds.join(", ")}), \`npm run workload -- --devices ${options.devices} --jobs ${options.jobs} --scarcity <level> --seed <seed> --spread ${options.spread} --rounds ${options.rounds.min},${options.rounds.max}\`: jobs with the paper workload's three constraint sets, ${options.rounds.min} to ${options.rounds.max} rounds, Poisson arrivals ${g.meanInterarrivalS / 60} min apart on average, demands set so that the median job's ratio is the level (jobs spread within ${options.spread}x either side of it).`,
    `- Scarcity of a job: devices x online share (${(g.onlineShare * 100).toFixed(1)} %) x share of the simulated devices (drawn with the workload's seed) meeting its public and private constraints, over its demand. Below 1 its round cannot gather its demand from the devices online. A workload's is the median over its jobs; the minimum is shown beside it.`,
    `- Runs: every policy (${options.policies.join(", ")}) with feasibility-aware admission; then the best central policy (of fifo, random, srsf, irs: the one that completed most jobs, then the lowest average JCT) again without admission. A run stops when every job is done, after ${options.stallS / 3600} simulated hours in which no round closed, or after ${options.maxSimulatedS / 86_400} simulated days.`,
    "- Ratios, per workload: the best central policy for utilization, and for average JCT; the p95 JCT is that of the policy best for average JCT. Utilization is run-wide (useful over online device-seconds). JCT ratios are taken over the jobs FIFO and that policy both completed, and are undefined (-) when there are none; the utilization ratio is undefined when static partitioning did no useful work. Per level: the geometric mean of the workloads that define the ratio, with how many do and the jobs they cover.",
    "- Contention: FIFO's average JCT over the average JCT of the same jobs when each runs alone (FIFO, admission on, its own arrival time, the same devices), over the jobs both completed. Near 1 the jobs hardly wait for one another: no order of them can shorten their JCT, and only a shorter round (IRS's tier matching) can beat FIFO.",
    "- Jobs: completed; waiting (held back by admission when the run ended: its eligible devices online could not make its minimum, and it held none); stalled (not done, still opening attempts, and no round of it closed for the stall window before the run ended: a livelock); failed (gave up); running (still progressing at the time limit).",
    "- Wasted device-time: device-hours of tasks that counted toward no closed round (retried attempts, reports after a round closed, tasks lost when a device went offline).",
    "",
    "## Ratios by scarcity",
    "",
    levelTable(levels),
    "",
    contendedLine(summarizeContended(input.cells)),
    "",
    "![ratios and wasted device-time against scarcity](scheduling-sweep.svg)",
    "",
    "## Jobs by outcome",
    "",
    "Completed / waiting (held back by admission) / stalled (a livelock) / failed / running, summed over the seeds, with admission:",
    "",
    outcomeTable(levels),
    "",
    "## Every workload",
    "",
    workloadTable(input.cells),
    "",
    input.notes ?? `${NOTES_START}\n${NOTES_END}`,
    "",
  ].join("\n");
}
