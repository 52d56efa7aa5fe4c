import { bestJctAgainstFifo, bestRunWide, describeRatio, type Ratio } from "./comparison.js";
import type { SimulationResult } from "./metrics.js";

export interface Target {
  name: string;
  /** What is compared, e.g. "fifo / irs average JCT, over the 18 jobs both completed (...)". */
  compared: string;
  value: number | null;
  /** The paper's figure; null for a comparison it states no figure for. */
  target: number | null;
  reached: boolean;
}

const claim = (name: string, ratio: Ratio | null, what: string, target: number | null, missing: string): Target => ({
  name,
  compared: ratio ? describeRatio(ratio, what) : missing,
  value: ratio?.value ?? null,
  target,
  reached: target !== null && ratio?.value != null && ratio.value >= target,
});

/**
 * The paper's claims, measured: the best central policy (for each metric) against static
 * partitioning, client-side random choice and FIFO, and the total wall time. JCT ratios are taken
 * over the jobs both policies completed, so a run that left jobs unfinished still counts.
 */
export function targets(results: SimulationResult[], totalWallS: number): Target[] {
  const needs = (baseline: string) => `needs ${baseline} and a central policy`;
  return [
    claim("utilization vs static partitioning", bestRunWide(results, "static-partition", (r) => r.utilization), "utilization", 1.88, needs("static-partition")),
    claim("binding throughput vs client-side random", bestRunWide(results, "client-random", (r) => r.bindingThroughput), "binding throughput", 2.76, needs("client-random")),
    claim("average JCT vs FIFO", bestJctAgainstFifo(results, "avgS"), "average JCT", 1.26, needs("fifo")),
    claim("p95 JCT vs FIFO", bestJctAgainstFifo(results, "p95S"), "p95 JCT", null, needs("fifo")),
    { name: "all policies within 10 minutes", compared: "600 s / wall time", value: 600 / totalWallS, target: 1, reached: totalWallS <= 600 },
  ];
}

const fixed = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : "-");
const hours = (s: number) => fixed(s / 3600, 2);

/**
 * A run's jobs by outcome, completed / waiting / stalled / failed / running ("18 / 1 / 0 / 0 / 1"),
 * with "(run stopped)" when the run stopped because no round closed for its stall window.
 */
export const outcomes = (r: SimulationResult) =>
  `${r.jobsCompleted} / ${r.jobsWaiting} / ${r.jobsStalled} / ${r.jobsFailed} / ${r.jobsRunning}${r.stalled ? " (run stopped)" : ""}`;

/** Average and p95 JCT in hours, "-" for a run that completed no job. */
const jcts = (r: SimulationResult) => (r.jobsCompleted === 0 ? "- | -" : `${hours(r.avgJctS)} | ${hours(r.p95JctS)}`);

export function resultTable(results: SimulationResult[]): string {
  const head =
    "| policy | utilization | avg JCT (h) | p95 JCT (h) | binding throughput (/s) | avg scheduling delay (s) | bindings | check-ins per binding | refused handshakes | " +
    "retried rounds | wasted device-h | jobs completed / waiting / stalled / failed / running | makespan (h) | over-assignments | wall time (s) |";
  const rule = `|${head.split("|").slice(1, -1).map((c, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`;
  const rows = results.map((r) =>
    `| ${r.policy} | ${fixed(r.utilization, 4)} | ${jcts(r)} | ${fixed(r.bindingThroughput, 2)} | ${fixed(r.avgSchedulingDelayS, 1)} | ${r.bindings} | ${fixed(r.checkIns / Math.max(1, r.bindings), 1)} | ${r.refusedHandshakes} | ${r.retries} | ${fixed(r.wastedDeviceS / 3600, 0)} | ${outcomes(r)} | ${hours(r.makespanS)} | ${r.overAssignments + r.eligibilityViolations + r.doubleBindings} | ${fixed(r.wallTimeS, 1)} |`,
  );
  return [head, rule, ...rows].join("\n");
}

export function targetTable(list: Target[]): string {
  const verdict = (t: Target) => (t.target === null ? "" : t.reached ? "reached" : "not reached");
  const measured = (t: Target) => (t.value === null ? "-" : `${fixed(t.value, 2)}x`);
  const rows = list.map((t) => `| ${t.name} | ${t.compared} | ${measured(t)} | ${t.target === null ? "-" : `>= ${t.target}x`} | ${verdict(t)} |`);
  return ["| claim | compared | measured | target | |", "| --- | --- | ---: | ---: | --- |", ...rows].join("\n");
}

/** Three bar charts side by side (utilization, binding throughput, average JCT), as SVG text. */
export function barChart(results: SimulationResult[]): string {
  const panels: { title: string; value: (r: SimulationResult) => number; label: (v: number) => string }[] = [
    { title: "Resource utilization", value: (r) => r.utilization, label: (v) => v.toFixed(3) },
    { title: "Binding throughput (bindings/s)", value: (r) => r.bindingThroughput, label: (v) => v.toFixed(2) },
    { title: "Average JCT (hours)", value: (r) => r.avgJctS / 3600, label: (v) => v.toFixed(1) },
  ];
  const colors = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#9d755d", "#bab0ac"];
  const panelW = 300;
  const chartH = 200;
  const top = 40;
  const bottom = 90;
  const width = panelW * panels.length + 60;
  const height = top + chartH + bottom;
  const barW = Math.min(36, (panelW - 60) / Math.max(1, results.length) - 6);
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((panel, p) => {
    const x0 = 20 + p * panelW;
    const values = results.map(panel.value).map((v) => (Number.isFinite(v) ? v : 0));
    const max = Math.max(...values, 1e-9);
    parts.push(`<text x="${x0 + (panelW - 20) / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<line x1="${x0 + 10}" y1="${top + chartH}" x2="${x0 + panelW - 30}" y2="${top + chartH}" stroke="#333"/>`);
    values.forEach((v, i) => {
      const h = (v / max) * (chartH - 20);
      const x = x0 + 20 + i * (barW + 6);
      const y = top + chartH - h;
      parts.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${colors[i % colors.length]}"/>`);
      parts.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" font-size="9">${esc(panel.label(v))}</text>`);
      const lx = x + barW / 2;
      const ly = top + chartH + 10;
      parts.push(`<text x="${lx.toFixed(1)}" y="${ly}" transform="rotate(45 ${lx.toFixed(1)} ${ly})" font-size="10">${esc(results[i].policy)}</text>`);
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

export const NOTES_START = "<!-- notes: kept when the file is regenerated -->";
export const NOTES_END = "<!-- end of notes -->";

/** The hand-written notes of an earlier report, to carry over. */
export function notesOf(previous: string | null): string | null {
  if (!previous) return null;
  const start = previous.indexOf(NOTES_START);
  const end = previous.indexOf(NOTES_END);
  return start >= 0 && end > start ? previous.slice(start, end + NOTES_END.length) : null;
}

export function markdownReport(input: { results: SimulationResult[]; setup: string[]; command: string; totalWallS: number; notes: string | null }): string {
  const { results } = input;
  return [
    "# Trace-driven scheduling simulation",
    "",
    `Generated by \`${input.command}\`. Every policy runs the same devices, availability and workload`,
    "(same seed) through the production policy and round-slot modules; see `docs/scheduling.md` for",
    "the policies and `control/src/simulator/` for the model.",
    "",
    "## Setup",
    "",
    ...input.setup.map((line) => `- ${line}`),
    "",
    "## Results",
    "",
    resultTable(results),
    "",
    "Over-assignments sums the independent check's over-assigned rounds, eligibility violations and",
    "devices bound to two jobs at once; it must be 0.",
    "",
    "![bar chart](simulation.svg)",
    "",
    "## The paper's claims",
    "",
    targetTable(targets(results, input.totalWallS)),
    "",
    `Total wall time: ${input.totalWallS.toFixed(1)} s.`,
    "",
    input.notes ?? `${NOTES_START}\n${NOTES_END}`,
    "",
  ].join("\n");
}
