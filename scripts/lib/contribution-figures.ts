import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";
import { PHASES, type Phase, type Requests } from "./contribution-rounds.js";
import type { Frames } from "./counted-web-socket.js";
import type { Bindings } from "./push-rounds.js";

/** The acceptance target: server CPU per 55k-parameter contribution (the peer spends about 7 ms). */
export const TARGET_MS = 2;

/** How the devices check in: over HTTP, or over a push connection (and are pushed their tasks). */
export type Transport = "http" | "push";
export const TRANSPORTS: readonly Transport[] = ["http", "push"];

/** CPU milliseconds of the two workerd processes of `wrangler dev`. */
export interface ByProcess {
  worker: number;
  proxy: number;
}

/** The trivial route: its CPU per request is the ceiling's unit for a request. */
export const TRIVIAL = "GET /v1/health (trivial)";
/**
 * A frame the shard's handler refuses at once (not JSON) and its error frame: the cheapest exchange
 * that runs the shard's code; half of it is the ceiling's unit for a frame.
 */
export const REFUSED_FRAME = "a frame refused by the shard (not JSON) and its error frame";
/** The keep-alive frame and its pong, answered by the platform without running the shard. */
export const PING_FRAME = "a keep-alive frame and its pong (answered by the platform)";
export const PUSH_OPEN = "GET /v1/connect: open a push connection, then close it";

/** A kind of work sent `requests` times, and the CPU all of them took. */
export interface ReferenceRequest extends ByProcess {
  name: string;
  requests: number;
}

/** What opening the bench devices' push connections took (once per device, before the rounds). */
export interface ConnectionCost extends ByProcess {
  connections: number;
  calls: number;
  statements: number;
}

export type Steps = Record<Phase | "between", ByProcess>;
export const STEPS = ["between", ...PHASES] as const;

/** What one transport's side of `npm run bench:contribution` measured over its measured rounds. */
export interface ContributionResult {
  transport: Transport;
  devices: number;
  rounds: number;
  /** The whole measured window (both transports' rounds, when they alternate). */
  seconds: number;
  phases: Steps;
  requests: Requests;
  frames: Frames;
  bindings: Bindings;
  /** Requests of one kind each, the trivial route first. */
  references: ReferenceRequest[];
  connections: ConnectionCost | null;
  idleMsPerSecond: ByProcess;
  before: CountersTotal;
  after: CountersTotal;
}

const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));
const sum = (p: ByProcess) => p.worker + p.proxy;

/** The figures per contribution of one transport. */
export function transportFigures(r: ContributionResult) {
  const contributions = r.devices * r.rounds;
  const per = (n: number) => fixed(n / contributions);
  const phases = STEPS.map((phase) => ({ phase, worker: per(r.phases[phase].worker), proxy: per(r.phases[phase].proxy) }));
  const worker = STEPS.reduce((n, p) => n + r.phases[p].worker, 0);
  const proxy = STEPS.reduce((n, p) => n + r.phases[p].proxy, 0);
  const requestsPer = (r.requests.checkIns + r.requests.downloads + r.requests.uploads + r.requests.other) / contributions;
  const framesPer = (r.frames.sent + r.frames.received) / contributions;
  const unit = (name: string) => {
    const run = r.references.find((x) => x.name === name);
    return run ? { worker: run.worker / run.requests, proxy: run.proxy / run.requests } : { worker: 0, proxy: 0 };
  };
  const trivial = unit(TRIVIAL);
  // Each frame, sent or received, at half the cheapest exchange that runs the shard's code.
  const refused = unit(REFUSED_FRAME);
  const frame = { worker: refused.worker / 2, proxy: refused.proxy / 2 };
  const ceiling = { worker: trivial.worker * requestsPer + frame.worker * framesPer, proxy: trivial.proxy * requestsPer + frame.proxy * framesPer };
  const calls = Object.entries(r.after.calls)
    .map(([method, n]) => ({ method, perContribution: per(n - (r.before.calls[method] ?? 0)) }))
    .filter((c) => c.perContribution !== 0);
  const writes = Object.entries(r.after.writes).map(([objectClass, w]) => ({
    objectClass,
    statements: per(w.statements - (r.before.writes[objectClass]?.statements ?? 0)),
    rows: per(w.rows - (r.before.writes[objectClass]?.rows ?? 0)),
  }));
  const c = r.connections;
  return {
    transport: r.transport,
    contributions,
    cpuMs: per(worker + proxy),
    workerCpuMs: per(worker),
    proxyCpuMs: per(proxy),
    idleMs: per(sum(r.idleMsPerSecond) * r.seconds),
    targetMs: TARGET_MS,
    requests: fixed(requestsPer),
    checkIns: per(r.requests.checkIns),
    downloads: per(r.requests.downloads),
    uploads: per(r.requests.uploads),
    frames: fixed(framesPer),
    framesSent: per(r.frames.sent),
    framesReceived: per(r.frames.received),
    keepAliveFrames: per(r.frames.pings + r.frames.pongs),
    tasksPushed: per(r.bindings.pushed),
    tasksAnswered: per(r.bindings.answered),
    waits: Object.fromEntries(Object.entries(r.bindings.waits).map(([reason, n]) => [reason, per(n)])),
    trivialMsPerRequest: fixed(sum(trivial), 3),
    trivialWorkerMsPerRequest: fixed(trivial.worker, 3),
    frameMs: fixed(sum(frame), 3),
    frameWorkerMs: fixed(frame.worker, 3),
    ceilingMs: fixed(sum(ceiling)),
    workerCeilingMs: fixed(ceiling.worker),
    /** The contribution's CPU in trivial requests: moves less with the machine's load than the milliseconds do. */
    trivialRequestsWorth: fixed((worker + proxy) / contributions / sum(trivial), 1),
    objectCalls: per(r.after.totals.calls - r.before.totals.calls),
    sqlWrites: per(r.after.totals.statements - r.before.totals.statements),
    rowsWritten: per(r.after.totals.rows - r.before.totals.rows),
    connection: c && { connections: c.connections, cpuMs: fixed(sum(c) / c.connections), workerCpuMs: fixed(c.worker / c.connections), objectCalls: fixed(c.calls / c.connections), sqlWrites: fixed(c.statements / c.connections) },
    phases,
    references: r.references.map((x) => ({ name: x.name, worker: fixed(x.worker / x.requests, 3), proxy: fixed(x.proxy / x.requests, 3) })),
    calls,
    writes,
    requestsTotal: r.requests,
    framesTotal: r.frames,
  };
}

export type TransportFigures = ReturnType<typeof transportFigures>;
