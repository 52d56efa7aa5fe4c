// The fuzz run's summary: for the console, and the results document (docs/fuzz.md, docs/fuzz.json).
import type { FuzzResult } from "./fuzz-run.js";
import { machineLine } from "./machine.js";

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function fuzzTables(result: FuzzResult): string {
  const statuses = Object.keys(result.byStatus).sort();
  const routes = Object.keys(result.byRoute).sort();
  const byRoute = [
    `| route | requests | ${statuses.join(" | ")} |`,
    `| --- | ---: |${statuses.map(() => " ---: |").join("")}`,
    ...routes.map((r) => `| \`${r}\` | ${sum(result.byRoute[r])} | ${statuses.map((s) => result.byRoute[r][s] ?? 0).join(" | ")} |`),
    `| all | ${result.requests} | ${statuses.map((s) => result.byStatus[s]).join(" | ")} |`,
  ];
  const m = result.memory;
  const r = result.reference;
  const figures = [
    "| figure | value |",
    "| --- | ---: |",
    `| hostile requests (routes, frames, handshakes) | ${result.requests} |`,
    `| routes of the OpenAPI document | ${result.routes} |`,
    `| 5xx answers | ${result.serverErrors} |`,
    `| no answer (reset, failed fetch, timeout) | ${result.resets} |`,
    `| hostile requests taken (2xx where a refusal was due) | ${result.accepted} |`,
    `| restarts (wrangler, workerd, objects) | ${result.restarts.length} |`,
    `| canaries failed / sent | ${result.canaries.failed} / ${result.canaries.sent} |`,
    `| state changed (jobs, models, tenants, tickets) | ${result.stateDiff.length ? result.stateDiff.length + " parts" : "none"} |`,
    `| the untouched ticket's delta afterwards | ${result.ticket} |`,
    `| objects or model blobs given storage by the run | ${result.objects.created.length} (objects with tables: ${result.objects.before} before, ${result.objects.after} after) |`,
    `| writes beyond the canaries' check-ins | ${result.writes.length ? result.writes.join("; ") : "none"} |`,
    `| workerd memory start / peak / end (resident) | ${m.startMb} / ${m.peakMb} / ${m.endMb} MiB (end ${(m.settleMs / 1000).toFixed(0)} s after the run) |`,
    `| JS heap kept (reachable in a heap snapshot) start / end | ${m.heapStartMb} / ${m.heapEndMb} MiB (${m.collections} forced collections, ${m.gcMissed} unanswered) |`,
    ...(r
      ? [
          `| one-line Worker, the same ${r.sent} requests less push frames: resident start / peak / end | ${r.startMb} / ${r.peakMb} / ${r.endMb} MiB |`,
          `| control plane's resident growth beyond the one-line Worker's | ${m.endMb - m.startMb - (r.endMb - r.startMb)} MiB (${m.endMb - m.startMb} against ${r.endMb - r.startMb}; 10 % of its start: ${(m.startMb / 10).toFixed(0)}) |`,
        ]
      : []),
    `| run time | ${(result.runMs / 1000).toFixed(1)} s |`,
    `| seed | ${result.seed} |`,
  ];
  const failures = result.failures.length
    ? ["", `Failures (${result.failures.length}; the first 30):`, "", "| # | route | mutation | outcome | request |", "| ---: | --- | --- | --- | --- |", ...result.failures.slice(0, 30).map((f) => `| ${f.index} | \`${f.route}\` | ${f.mutation} | ${f.outcome.replace(/\s+/g, " ").slice(0, 160)} | \`${f.request.replaceAll("|", "\\|").slice(0, 240)}\` |`)]
    : [];
  const canaries = result.canaries.failures.length ? ["", "Canary failures (the first 10):", "", ...result.canaries.failures.slice(0, 10).map((f) => `- ${f}`)] : [];
  const logged = result.logged.length ? ["", "Errors in wrangler's log (distinct, the first 20):", "", ...result.logged.map((l) => `- \`${l.replaceAll("`", "'")}\``)] : [];
  return [...figures, "", ...byRoute, ...failures, ...canaries, ...logged, "", result.verdict.length ? `FAILED: ${result.verdict.join("; ")}` : "PASSED: every check held."].join("\n");
}

export function fuzzDocument(result: FuzzResult, date: string, dropClients = false): string {
  return [
    "# Fuzz run: hostile requests against the control plane under `wrangler dev`",
    "",
    `Measured by \`npm run fuzz -- --requests ${result.requests} --seed ${result.seed}${dropClients ? " --drop-clients" : ""}\` on ${date.slice(0, 10)}: ${machineLine()}; client and workerd on one machine, loopback.`,
    "What it does, what it checks and how to read a failure: docs/api.md, \"Limits\" and \"The fuzz suite\". Every request is one seeded choice, so the same seed sends the same requests in the same order (their timing, and so the interleaving with the canaries, differs).",
    `Memory: ${result.memory.measured}.${result.reference ? " The reference: the same seeded requests (push frames aside) sent afterwards to a one-line Worker (it reads each body and answers \"ok\") under `wrangler dev` with the same configuration, measured the same way; the run fails when the control plane's resident memory grows more than 10 % of its start beyond the reference's growth, or the JS heap its isolates keep (reachable objects) is not back within 10 % of its start." : ""}`,
    "",
    fuzzTables(result),
    "",
  ].join("\n");
}
