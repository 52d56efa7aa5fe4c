import { STEPS, TARGET_MS, transportFigures, type ContributionResult, type TransportFigures } from "./contribution-figures.js";

/** The run as a whole: what both transports shared. */
export interface ContributionRun {
  date: string;
  machine: string;
  loadavg: string;
  parameters: number;
  devices: number;
  rounds: number;
  concurrency: number;
  shards: number;
  spreadMs: number;
  seconds: number;
  results: ContributionResult[];
}

const STEP_NAMES: Record<(typeof STEPS)[number], string> = {
  between: "between its rounds (the other transport's round ran)",
  checkIn: "check-in until bound (push: the wait for the pushed tasks left after the close)",
  download: "model download",
  upload: "delta upload (push: and the check-in frame after it, told to wait)",
  close: "round close, and idle (push: the next round's tasks pushed)",
};
const NAMES = { http: "HTTP", push: "push" } as const;

const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));

/** One line per transport for the console. */
function summaryOf(f: TransportFigures): string[] {
  return [
    `${NAMES[f.transport]}: workerd CPU per contribution ${f.cpuMs} ms (the Worker's process ${f.workerCpuMs} ms, wrangler's proxy ${f.proxyCpuMs} ms; idle workerd over the window ${f.idleMs} ms); target: at most ${TARGET_MS} ms`,
    `  ceiling: ${f.requests} requests x ${f.trivialMsPerRequest} ms + ${f.frames} frames x ${f.frameMs} ms = ${f.ceilingMs} ms (Worker's process ${f.workerCeilingMs} ms); ${f.trivialRequestsWorth} trivial requests' worth`,
    `  by step (Worker + proxy): ${f.phases.map((p) => `${p.phase} ${p.worker} + ${p.proxy}`).join(", ")}`,
    `  object calls ${f.objectCalls} (${f.calls.map((c) => `${c.method} ${c.perContribution}`).join(", ")}); SQL writes ${f.sqlWrites} statements, ${f.rowsWritten} rows`,
    ...(f.connection ? [`  opening a push connection: ${f.connection.cpuMs} ms (${f.connection.objectCalls} object calls); tasks pushed ${f.tasksPushed}, answered on the check-in ${f.tasksAnswered} per contribution`] : []),
  ];
}

/** The figures per transport, a summary for the console, and the results document. */
export function contributionReport(run: ContributionRun) {
  const figures = run.results.map(transportFigures);
  const head = `| per contribution | ${figures.map((f) => NAMES[f.transport]).join(" | ")} |\n| --- |${figures.map(() => " ---: |").join("")}`;
  const row = (name: string, value: (f: TransportFigures) => string | number | null) => `| ${name} | ${figures.map((f) => value(f) ?? "-").join(" | ")} |`;
  const union = <T>(list: (f: TransportFigures) => T[], key: (x: T) => string) => [...new Set(figures.flatMap((f) => list(f).map(key)))];
  const methods = union((f) => f.calls, (c) => c.method);
  const classes = union((f) => f.writes, (w) => w.objectClass);
  const references = union((f) => f.references, (x) => x.name);
  const push = figures.find((f) => f.transport === "push");
  const markdown = [
    "# Contribution benchmark: server CPU, object calls and writes per contribution, under `wrangler dev`",
    "",
    `Measured by \`npm run bench:contribution\` (\`--transport ${figures.map((f) => f.transport).join(",")}${run.spreadMs ? ` --spread-ms ${run.spreadMs}` : ""}\`) on ${run.date.slice(0, 10)}: ${run.machine}; client and workerd on one machine, loopback; load average at the end ${run.loadavg}.`,
    `A contribution is one device's cycle for one update: its check-in until bound, the model download (a new model each round) and the upload of a ${run.parameters.toLocaleString("en")}-parameter fp32 delta (no training), with its share of the round close. ${run.devices} devices contribute to each of ${run.rounds} measured rounds (${run.devices * run.rounds} contributions) after one warm-up round, ${run.concurrency} requests in flight, ${run.shards} aggregator shard(s)${run.spreadMs ? `; device i waits ${run.spreadMs} x i / ${run.devices} ms before its upload (\`--spread-ms ${run.spreadMs}\`, as training times that differ)` : ""}.`,
    "Transports: HTTP devices check in with `POST /v1/checkin`, coming back when told to wait. Push devices hold a push connection (`GET /v1/connect`, opened once before the rounds through the edge runtime's check-in channel), check in over it right after each upload, are told to wait, and are pushed their next task by their client-manager shard when the next round opens; they download and upload over HTTP. " + (figures.length > 1 ? "Each transport has its own control plane (its own `wrangler dev`, so that CPU and counters are its own), and their rounds alternate, so that both see the same load on the shared machine." : `This run measured ${NAMES[figures[0].transport]} devices only.`),
    "workerd CPU is user + system time from /proc of wrangler's two workerd processes: the one that runs the Worker and its objects, and the proxy in front of it (a `wrangler dev` piece with no counterpart on Cloudflare). Object calls and SQL writes are the difference of `GET /v1/admin/counters` before and after the measured rounds (a shard's push frames count as `webSocketMessage` calls).",
    "The ceiling, measured in the same run on each plane: the workerd CPU of one `GET /v1/health` (1000 of them, as many in flight) times the HTTP requests of a contribution, plus, for push, each check-in frame of a contribution (sent or received) at half the CPU of the cheapest exchange that runs the shard's code: a frame the shard refuses at once (not JSON) and its error frame (1000 of them). Keep-alive frames are left out of both sides (they come every 30 s whatever the rounds do, and the platform answers them without running the shard: their row below). The ceiling is what the contribution would cost if its requests and frames did no work. /proc counts CPU in 10 ms ticks; the figures are sums over the whole window, divided.",
    "The machine is shared with other work: from run to run the milliseconds move by about a fifth, the trivial route's with them; the CPU counted in trivial requests moves less. Where the CPU goes, and what it would take to reach the target: docs/design.md, \"CPU per contribution\".",
    "",
    head,
    row("workerd CPU (both processes), ms", (f) => f.cpuMs),
    row("of it, the Worker's process", (f) => f.workerCpuMs),
    row("of it, wrangler's proxy", (f) => f.proxyCpuMs),
    row(`of it, idle workerd over the window (${fixed(run.seconds, 1)} s)`, (f) => f.idleMs),
    row("HTTP requests (check-ins + downloads + uploads)", (f) => `${f.requests} (${f.checkIns} + ${f.downloads} + ${f.uploads})`),
    row("WebSocket frames (sent + received), keep-alives apart", (f) => `${f.frames} (${f.framesSent} + ${f.framesReceived})`),
    row("keep-alive frames (pings + pongs)", (f) => f.keepAliveFrames),
    row("trivial request, ms", (f) => `${f.trivialMsPerRequest} (Worker ${f.trivialWorkerMsPerRequest})`),
    row("a frame (half a refused frame and its error), ms", (f) => (f.transport === "push" ? `${f.frameMs} (Worker ${f.frameWorkerMs})` : null)),
    row("ceiling: requests x trivial request + frames x a frame, ms", (f) => f.ceilingMs),
    row("ceiling, the Worker's process alone", (f) => f.workerCeilingMs),
    row("above the ceiling: what the contribution's work adds", (f) => fixed(f.cpuMs - f.ceilingMs)),
    row("above the ceiling, the Worker's process alone", (f) => fixed(f.workerCpuMs - f.workerCeilingMs)),
    row("the contribution's CPU in trivial requests", (f) => f.trivialRequestsWorth),
    row("object calls", (f) => f.objectCalls),
    row("SQL write statements", (f) => f.sqlWrites),
    row("rows written (index entries count)", (f) => f.rowsWritten),
    row("tasks pushed; answered on the check-in frame", (f) => (f.transport === "push" ? `${f.tasksPushed}; ${f.tasksAnswered}` : null)),
    row("waits told on the check-in frame, by reason", (f) => (f.transport === "push" ? Object.entries(f.waits).map(([reason, n]) => `${reason} ${n}`).join(", ") || "none" : null)),
    row("target, ms", () => TARGET_MS),
    "",
    ...(push?.connection
      ? [`Opening the push connections (once per device, before the rounds; not in the figures above): ${push.connection.cpuMs} ms of workerd CPU per connection over the ${push.connection.connections} devices (the Worker's process ${push.connection.workerCpuMs} ms), ${push.connection.objectCalls} object calls and ${push.connection.sqlWrites} SQL writes each (the upgrade is a \`fetch\` of the shard, which the counters do not count); the reference row below opens and closes a connection end to end. A connection that stays open costs nothing between frames (check:push-idle).`, ""]
      : []),
    `| step, ms per contribution (Worker's process + proxy) | ${figures.map((f) => NAMES[f.transport]).join(" | ")} |`,
    `| --- |${figures.map(() => " ---: |").join("")}`,
    ...STEPS.map((step) => `| ${STEP_NAMES[step]} | ${figures.map((f) => { const p = f.phases.find((x) => x.phase === step)!; return `${p.worker} + ${p.proxy}`; }).join(" | ")} |`),
    "",
    "Reference work, measured in the same run on each plane before the rounds (as many in flight), ms each:",
    "",
    `| work (Worker's process + proxy) | ${figures.map((f) => NAMES[f.transport]).join(" | ")} |`,
    `| --- |${figures.map(() => " ---: |").join("")}`,
    ...references.map((name) => row(name, (f) => { const x = f.references.find((r) => r.name === name); return x ? `${x.worker} + ${x.proxy}` : null; })),
    "",
    `| object call, per contribution | ${figures.map((f) => NAMES[f.transport]).join(" | ")} |`,
    `| --- |${figures.map(() => " ---: |").join("")}`,
    ...methods.map((m) => row(m, (f) => f.calls.find((c) => c.method === m)?.perContribution ?? null)),
    "",
    `| object class: write statements / rows, per contribution | ${figures.map((f) => NAMES[f.transport]).join(" | ")} |`,
    `| --- |${figures.map(() => " ---: |").join("")}`,
    ...classes.map((k) => row(k, (f) => { const w = f.writes.find((x) => x.objectClass === k); return w ? `${w.statements} / ${w.rows}` : null; })),
    "",
  ].join("\n");
  const json = {
    date: run.date, machine: run.machine, loadavg: run.loadavg,
    parameters: run.parameters, devices: run.devices, rounds: run.rounds, concurrency: run.concurrency, shards: run.shards, spreadMs: run.spreadMs, seconds: fixed(run.seconds, 1),
    targetMs: TARGET_MS,
    transports: Object.fromEntries(figures.map((f) => [f.transport, f])),
  };
  return { figures, summary: [...figures.flatMap(summaryOf), `load average at the end: ${run.loadavg}`], json, markdown };
}
