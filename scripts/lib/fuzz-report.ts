import { availableParallelism, cpus, totalmem } from "node:os";
import type { FuzzResult } from "./fuzz-run.js";

/** The fuzz run's summary: for the console, and the results document (docs/fuzz.md, docs/fuzz.json). */
export function machine(): string {
  return `nproc ${availableParallelism()}, ${cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

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
    `| JS heap in use start / end | ${m.heapStartMb} / ${m.heapEndMb} MiB |`,
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
    `Measured by \`npm run fuzz -- --requests ${result.requests} --seed ${result.seed}${dropClients ? " --drop-clients" : ""}\` on ${date.slice(0, 10)}: ${machine()}; client and workerd on one machine, loopback.`,
    "What it does, what it checks and how to read a failure: docs/api.md, \"Limits\" and \"The fuzz suite\". Every request is one seeded choice, so the same seed sends the same requests in the same order (their timing, and so the interleaving with the canaries, differs).",
    `Memory: ${result.memory.measured}.`,
    "",
    fuzzTables(result),
    "",
  ].join("\n");
}
