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
    `Measured by \`npm run faults\` on ${run.machine}; last run \`${run.command}\` on ${run.date.slice(0, 10)} (each section says`,
    "when and by which command it ran). The control plane, the devices and the suite share the machine, on loopback; seed " + run.options.seed + ".",
    "",
    table,
    "",
    ...(run.results.some((r) => r.scenario === "soak") && run.options.soakMinutes < 30
      ? [`The soak ran ${run.options.soakMinutes} min here, not the 30 min of the acceptance; \`npm run faults -- --scenario soak --soak-minutes 30\` runs that.`, ""]
      : []),
    "How it counts:",
    "- **Acknowledged updates** are the receipts devices got (the task loop's `uploaded` events: the Node CLI's `--event-log`, the",
    "  in-process devices' own events, the browser tab's history of accepted updates). **Counted** are the `reported` figures of the",
    "  job's round records, attempt by attempt. **Lost**: receipts an attempt's record does not count. **Double-counted**: counted",
    "  updates beyond one per device that sent one, and second receipts for one task. An update whose receipt a crash cut off may",
    "  be counted or not, so the counted examples must also be the acknowledged updates' plus those of some unacknowledged ones,",
    "  as many as the count says; otherwise the attempt is listed as unexplained and the scenario fails.",
    "- **Attempts ended by their deadline**: closed or retried attempts whose close is at most 2 s after `openedAt` + the round",
    "  deadline (the deadline is an object alarm; in the outages, an attempt whose deadline fell while the plane was down counts",
    "  from the restart).",
    "- **Time to recover**: kills, restart to the next accepted update of any device; outages, restart to each device's own next",
    "  accepted update; dropout, each attempt's time from opening to its end; stall, the honest uploads' added delay.",
    "- **Soak**: the workerd runtime's RSS from /proc (VmRSS of the process that runs the Worker and its objects), each sample",
    "  after a full collection of the Worker's isolate (inspector, `HeapProfiler.collectGarbage`); flat when the least-squares",
    "  slope over the run's second half is at most 1 MiB/min beyond the runtime's own growth: afterwards the same traffic",
    "  (as many requests a second, as many of them delta bodies, as many in flight, for as long) goes to a one-line Worker under",
    "  `wrangler dev` with the same configuration, sampled the same way, and the control plane's slope is taken beyond that",
    "  Worker's. The isolate's JavaScript heap (the inspector's `Runtime.getHeapUsage`, after the same collection) must be flat",
    "  by itself: it tells objects the Worker keeps alive from memory the runtime holds outside the heap.",
    "",
    ...run.results.flatMap((r) => [`## ${r.scenario}: ${r.setup}`, "", ...(r.ranAt ? [`Run at ${r.ranAt.slice(0, 16).replace("T", " ")} UTC${r.command && r.command !== run.command ? ` by \`${r.command}\`` : ""}.`, ""] : []), ...r.detail.map((line) => `- ${line}`), ""]),
  ].join("\n");
  return { table, markdown: `${markdown}\n`, json: run };
}
