import type { FaultOptions } from "./fault-suite.js";
import type { FaultResult } from "./fault-scenario.js";

export interface FaultRun {
  date: string;
  machine: string;
  command: string;
  options: FaultOptions;
  results: FaultResult[];
}

const dash = (v: number | string | null | undefined) => (v === null || v === undefined ? "-" : String(v));

/** The summary table (markdown, also printed), the results document and its JSON. */
export function faultsReport(run: FaultRun): { table: string; markdown: string; json: FaultRun } {
  const rows = run.results.map((r) => {
    const recovery = r.recoverySeconds.length ? `${Math.min(...r.recoverySeconds)}-${Math.max(...r.recoverySeconds)}` : "-";
    return `| ${r.scenario} | ${r.setup} | ${dash(r.tally?.acknowledged)} | ${dash(r.tally?.lost)} | ${dash(r.tally?.doubled)} | ${r.rounds ? `${r.rounds.byDeadline} / ${r.rounds.ended}` : "-"} | ${recovery} | ${r.passed ? "pass" : "FAIL"} |`;
  });
  const table = [
    "| scenario | setup | acknowledged updates | lost | double-counted | attempts ended by their deadline | time to recover (s) | result |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows,
  ].join("\n");
  const markdown = [
    "# Fault injection: the control plane under `wrangler dev`, faulted while devices work",
    "",
    `Measured by \`${run.command}\` on ${run.date.slice(0, 10)}: ${run.machine}. The control plane, the devices and the`,
    "suite share the machine, on loopback; seed " + run.options.seed + ".",
    "",
    table,
    "",
    ...run.results.flatMap((r) => [`## ${r.scenario}: ${r.setup}`, "", ...r.detail.map((line) => `- ${line}`), ""]),
  ].join("\n");
  return { table, markdown: `${markdown}\n`, json: run };
}
