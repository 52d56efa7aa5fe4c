import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";
import { PHASES, type Phase, type Requests } from "./contribution-rounds.js";

/** The acceptance target: server CPU per 55k-parameter contribution (the peer spends about 7 ms). */
export const TARGET_MS = 2;

/** CPU milliseconds of the two workerd processes of `wrangler dev`. */
export interface ByProcess {
  worker: number;
  proxy: number;
}

/** The trivial route: its CPU per request is the ceiling's unit. */
export const TRIVIAL = "GET /v1/health (trivial)";

/** A kind of request sent `requests` times, and the CPU all of them took. */
export interface ReferenceRequest extends ByProcess {
  name: string;
  requests: number;
}

/** What `npm run bench:contribution` measured over its measured rounds. */
export interface ContributionResult {
  date: string;
  machine: string;
  loadavg: string;
  parameters: number;
  devices: number;
  rounds: number;
  concurrency: number;
  shards: number;
  seconds: number;
  phases: Record<Phase, ByProcess>;
  requests: Requests;
  /** Requests of one kind each, the trivial route first. */
  references: ReferenceRequest[];
  idleMsPerSecond: ByProcess;
  before: CountersTotal;
  after: CountersTotal;
}

const PHASE_NAMES: Record<Phase, string> = {
  checkIn: "check-in until bound",
  download: "model download",
  upload: "delta upload",
  close: "round close (and idle)",
};

const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));
const sum = (p: ByProcess) => p.worker + p.proxy;

/** The figures per contribution, a summary for the console, and the results document. */
export function contributionReport(r: ContributionResult) {
  const contributions = r.devices * r.rounds;
  const per = (n: number) => fixed(n / contributions);
  const phases = PHASES.map((phase) => ({ phase, worker: per(r.phases[phase].worker), proxy: per(r.phases[phase].proxy) }));
  const worker = PHASES.reduce((n, p) => n + r.phases[p].worker, 0);
  const proxy = PHASES.reduce((n, p) => n + r.phases[p].proxy, 0);
  const httpRequests = r.requests.checkIns + r.requests.downloads + r.requests.uploads;
  const requestsPer = httpRequests / contributions;
  const references = r.references.map((x) => ({ name: x.name, worker: fixed(x.worker / x.requests), proxy: fixed(x.proxy / x.requests) }));
  const trivialRun = r.references.find((x) => x.name === TRIVIAL)!;
  const trivial = { worker: trivialRun.worker / trivialRun.requests, proxy: trivialRun.proxy / trivialRun.requests };
  const calls = Object.entries(r.after.calls)
    .map(([method, n]) => ({ method, perContribution: per(n - (r.before.calls[method] ?? 0)) }))
    .filter((c) => c.perContribution !== 0);
  const writes = Object.entries(r.after.writes).map(([objectClass, w]) => ({
    objectClass,
    statements: per(w.statements - (r.before.writes[objectClass]?.statements ?? 0)),
    rows: per(w.rows - (r.before.writes[objectClass]?.rows ?? 0)),
  }));
  const figures = {
    contributions,
    cpuMs: per(worker + proxy),
    workerCpuMs: per(worker),
    proxyCpuMs: per(proxy),
    idleMs: per(sum(r.idleMsPerSecond) * r.seconds),
    targetMs: TARGET_MS,
    requests: fixed(requestsPer),
    checkIns: per(r.requests.checkIns),
    trivialMsPerRequest: fixed(sum(trivial), 3),
    trivialWorkerMsPerRequest: fixed(trivial.worker, 3),
    ceilingMs: fixed(sum(trivial) * requestsPer),
    /** The contribution's CPU in trivial requests: moves less with the machine's load than the milliseconds do. */
    trivialRequestsWorth: fixed((worker + proxy) / contributions / sum(trivial), 1),
    workerCeilingMs: fixed(trivial.worker * requestsPer),
    objectCalls: per(r.after.totals.calls - r.before.totals.calls),
    sqlWrites: per(r.after.totals.statements - r.before.totals.statements),
    rowsWritten: per(r.after.totals.rows - r.before.totals.rows),
  };
  const f = figures;
  const summary = [
    `workerd CPU per contribution: ${f.cpuMs} ms (the Worker's process ${f.workerCpuMs} ms, wrangler's proxy ${f.proxyCpuMs} ms; idle workerd over the window: ${f.idleMs} ms); target: at most ${TARGET_MS} ms`,
    `ceiling: ${f.requests} requests per contribution (${f.checkIns} check-ins) x ${f.trivialMsPerRequest} ms per GET /v1/health (Worker's process ${f.trivialWorkerMsPerRequest} ms) = ${f.ceilingMs} ms (Worker's process ${f.workerCeilingMs} ms)`,
    `by step, ms per contribution (Worker's process + proxy): ${phases.map((p) => `${p.phase} ${p.worker} + ${p.proxy}`).join(", ")}`,
    `object calls per contribution: ${f.objectCalls} (${calls.map((c) => `${c.method} ${c.perContribution}`).join(", ")})`,
    `SQL writes per contribution: ${f.sqlWrites} statements, ${f.rowsWritten} rows (${writes.map((w) => `${w.objectClass} ${w.statements}/${w.rows}`).join(", ")})`,
    `load average at the end: ${r.loadavg}`,
  ];
  const json = {
    date: r.date, machine: r.machine, loadavg: r.loadavg,
    parameters: r.parameters, devices: r.devices, rounds: r.rounds, concurrency: r.concurrency, shards: r.shards, seconds: fixed(r.seconds, 1),
    ...figures, phases, references, calls, writes, requestsTotal: r.requests,
  };
  const markdown = [
    "# Contribution benchmark: server CPU, object calls and writes per contribution, under `wrangler dev`",
    "",
    `Measured by \`npm run bench:contribution\` on ${r.date.slice(0, 10)}: ${r.machine}; client and workerd on one machine, loopback; load average at the end ${r.loadavg}.`,
    `A contribution is one device's cycle for one update: check-ins until bound, the model download (a new model each round) and the upload of a ${r.parameters.toLocaleString("en")}-parameter fp32 delta (no training), with its share of the round close. ${r.devices} devices contribute to each of ${r.rounds} measured rounds (${contributions} contributions) after one warm-up round, ${r.concurrency} requests in flight, ${r.shards} aggregator shard(s).`,
    "workerd CPU is user + system time from /proc of wrangler's two workerd processes: the one that runs the Worker and its objects, and the proxy in front of it (a `wrangler dev` piece with no counterpart on Cloudflare). Object calls and SQL writes are the difference of `GET /v1/admin/counters` before and after the measured rounds.",
    "The machine is shared with other work: from run to run the milliseconds move by about a fifth, the trivial route's with them; the CPU counted in trivial requests moves less. Where the CPU goes, and what it would take to reach the target: docs/design.md, \"CPU per contribution\".",
    `The ceiling, measured in the same run: the workerd CPU of one \`GET /v1/health\` (${trivialRun.requests} of them, as many in flight), times the HTTP requests a contribution made: what the contribution would cost if each of its requests did no work. /proc counts CPU in 10 ms ticks; the figures are sums over the whole window, divided.`,
    "",
    "| per contribution | ms |",
    "| --- | ---: |",
    `| workerd CPU (both processes) | ${f.cpuMs} |`,
    `| of it, the Worker's process | ${f.workerCpuMs} |`,
    `| of it, wrangler's proxy | ${f.proxyCpuMs} |`,
    `| of it, idle workerd over the window (${fixed(r.seconds, 1)} s) | ${f.idleMs} |`,
    `| ceiling: ${f.requests} requests x ${f.trivialMsPerRequest} ms per trivial request | ${f.ceilingMs} |`,
    `| ceiling, the Worker's process alone (${f.trivialWorkerMsPerRequest} ms per trivial request) | ${f.workerCeilingMs} |`,
    `| above the ceiling: what the contribution's work adds to its requests | ${fixed(f.cpuMs - f.ceilingMs)} |`,
    `| above the ceiling, the Worker's process alone | ${fixed(f.workerCpuMs - f.workerCeilingMs)} |`,
    `| the contribution's CPU in trivial requests (${f.requests} is the ceiling) | ${f.trivialRequestsWorth} |`,
    `| target | ${TARGET_MS} |`,
    "",
    "| step | Worker's process ms | proxy ms |",
    "| --- | ---: | ---: |",
    ...phases.map((p) => `| ${PHASE_NAMES[p.phase]} | ${p.worker} | ${p.proxy} |`),
    "",
    `Requests per contribution: ${f.requests} (${f.checkIns} check-ins, ${per(r.requests.downloads)} downloads, ${per(r.requests.uploads)} uploads). Object calls per contribution: ${f.objectCalls}; SQL write statements: ${f.sqlWrites}, rows written: ${f.rowsWritten} (index entries count as rows).`,
    "",
    "Reference requests, measured in the same run before the rounds (as many in flight), each adding one piece to the trivial route:",
    "",
    "| request | Worker's process ms | proxy ms |",
    "| --- | ---: | ---: |",
    ...references.map((x) => `| ${x.name} | ${x.worker} | ${x.proxy} |`),
    "",
    "| object call | per contribution |",
    "| --- | ---: |",
    ...calls.map((c) => `| ${c.method} | ${c.perContribution} |`),
    "",
    "| object class | write statements | rows written |",
    "| --- | ---: | ---: |",
    ...writes.map((w) => `| ${w.objectClass} | ${w.statements} | ${w.rows} |`),
    "",
  ].join("\n");
  return { figures, summary, json, markdown };
}
