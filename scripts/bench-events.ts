/**
 * `npm run bench:events`: how long a job's round-closed event takes to reach its owner. The control
 * plane runs under `wrangler dev` on loopback; a job of --rounds rounds runs with --devices Node
 * devices (the task loop on push connections, a synthetic delta instead of training, in a process of
 * their own) while an owner's subscriber, in this process, follows it on `GET /v1/jobs/:id/events`.
 * Latency: the subscriber's clock on receipt minus the round record's closedAt (the job's own stamp,
 * same machine), and minus the event's publish stamp. Ceiling, in the same run on the same connection: keep-alive round trips (ping answered by
 * the platform). Then an idle check: a second running job with a subscriber and no devices is left
 * idle for --idle seconds; its object's counters say whether it left memory, and a cancel after
 * the idle period must still reach the subscriber.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { JobEventSubscription, OwnerClient } from "@propius/edge-runtime";
import type { CountersTotal } from "../control/src/diagnostics/counters-total.js";
import { nodeWebSocket } from "../node-client/src/web-socket.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { eventJobSpec, runEventJob } from "./lib/event-job.js";
import { ROOT, startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { median, quantile } from "./lib/stats.js";
import { ensureWebPage } from "./lib/web-page.js";
import { openDashboardOn, type DashboardClose } from "./lib/dashboard-listener.js";
import { machineLine } from "./lib/machine.js";

const HELP = `npm run bench:events -- [options]

  --rounds <n>    rounds of the job (default 20)
  --devices <n>   Node devices, and devices per round (default 4)
  --pings <n>     keep-alive round trips after each round's close, for the ceiling (default 5)
  --idle <s>      seconds the idle subscribed job is left alone (default 75; 0 skips the check)
  --no-dashboard  no second subscriber: the owner dashboard in headless Chromium
  --out <path>    results: <path>.md and <path>.json (default docs/events-benchmark)
`;
const { values: args } = parseArgs({ options: { rounds: { type: "string", default: "20" }, devices: { type: "string", default: "4" }, pings: { type: "string", default: "5" }, idle: { type: "string", default: "75" }, "no-dashboard": { type: "boolean" }, out: { type: "string", default: join(ROOT, "docs/events-benchmark") }, help: { type: "boolean" } } });
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const rounds = Number(args.rounds);
const devices = Number(args.devices);
const idleSeconds = Number(args.idle);
const ADMIN_KEY = "events-admin-key";
const command = ["npm run bench:events", ...(process.argv.length > 2 ? ["--", ...process.argv.slice(2)] : [])].join(" ");
const loadBefore = loadavg();

const withDashboard = !args["no-dashboard"];
if (withDashboard) await ensureWebPage({ log: (line) => process.stdout.write(`${line}\n`) });
const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-events-"));
const plane = await startControlPlane({ port: await freePort(), script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"), vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "events-token-secret" } });

interface Figures { p50: number; p99: number; max: number; n: number }
const figures = (values: number[]): Figures => ({ p50: median(values), p99: quantile(values, 0.99), max: Math.max(...values), n: values.length });
const fmt = (ms: number) => ms.toFixed(1);

let idle: { seconds: number; before: string; after: string; callsSince: number; leftMemory: boolean; cancelReceivedMs: number | null } | null = null;
let result;
try {
  const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "events" });
  const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
  process.stdout.write(`a ${rounds}-round job with ${devices} Node devices, followed live ...\n`);
  let dashboard: Awaited<ReturnType<typeof openDashboardOn>> | undefined;
  let dashboardCloses: DashboardClose[] = [];
  let run;
  try {
    run = await runEventJob({
      url: plane.url, owner, apiKey, rounds, devices, pingsPerClose: Number(args.pings), timeoutMs: 600_000,
      beforeStart: withDashboard ? async (job) => void (dashboard = await openDashboardOn(plane.url, apiKey, job.id)) : undefined,
    });
    // The last close reaches the dashboard about when it reaches this process: wait for it a little.
    for (let waited = 0; dashboard && waited < 5_000 && (dashboardCloses = await dashboard.closes()).length < rounds; waited += 100) await new Promise((r) => setTimeout(r, 100));
  } finally {
    await dashboard?.tab.close();
  }
  if (withDashboard && dashboardCloses.length !== rounds) throw new Error(`the dashboard saw ${dashboardCloses.length} of ${rounds} round closes`);
  if (run.closes.length !== rounds || run.final.state !== "done") throw new Error(`the subscriber saw ${run.closes.length} of ${rounds} round closes; the job is ${run.final.state}`);
  const inOrder = run.closes.every((c, i) => c.round === i + 1);
  result = {
    fromClose: figures(run.closes.map((c) => c.receivedAt - c.closedAt)),
    fromPublish: figures(run.closes.map((c) => c.receivedAt - c.publishedAt)),
    closeToPublish: figures(run.closes.map((c) => c.publishedAt - c.closedAt)),
    keepAlive: figures(run.pings),
    dashboard: withDashboard ? figures(dashboardCloses.map((c) => c.receivedAt - c.closedAt)) : null,
    dashboardCloses,
    inOrder,
    events: run.events.length,
    closes: run.closes,
    /** Every event: type, the job's publish stamp, the subscriber's receipt. */
    arrivals: run.events.map((e, i) => ({ type: e.type, seq: e.seq, at: e.at, receivedAt: run.arrivals[i] })),
  };

  if (idleSeconds > 0) {
    const spec = eventJobSpec(1, 1);
    const job = await owner.setInitialModel(await owner.createJob({ ...spec, name: "events-idle", plan: { ...spec.plan, roundDeadlineSeconds: 3_600 } }), spec, new Float32Array(8));
    const subscription = await JobEventSubscription.open({ baseUrl: plane.url, apiKey, jobId: job.id, connector: nodeWebSocket(), keepAliveMs: 10_000 });
    await subscription.next(10_000);
    const counters = async () => {
      const response = await fetch(`${plane.url}/v1/admin/counters?job=${job.id}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return ((await response.json()) as CountersTotal).objects.find((o) => o.class === "JobObject")!;
    };
    const before = await counters();
    process.stdout.write(`a running job with a subscriber and no devices, idle for ${idleSeconds} s (keep-alive pings every 10 s) ...\n`);
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const after = await counters();
    const cancelled = Date.now();
    await owner.cancel(job.id);
    let cancelReceivedMs: number | null = null;
    for (let event = await subscription.next(10_000); event; event = await subscription.next(10_000)) {
      if (event.type === "state_changed" && event.to === "cancelled") {
        cancelReceivedMs = Date.now() - cancelled;
        break;
      }
    }
    subscription.close();
    idle = { seconds: idleSeconds, before: before.instance, after: after.instance, callsSince: after.calls, leftMemory: before.instance !== after.instance, cancelReceivedMs };
  }
} finally {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}

const machine = machineLine();
const load = { before: loadBefore.map((l) => Number(l.toFixed(2))), after: loadavg().map((l) => Number(l.toFixed(2))) };
const date = new Date().toISOString();
const row = (name: string, f: Figures) => `| ${name} | ${f.n} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.max)} |`;
const table = [
  "| from | samples | p50 ms | p99 ms | max ms |",
  "| --- | ---: | ---: | ---: | ---: |",
  row("round closed (record's closedAt) to subscriber", result.fromClose),
  ...(result.dashboard ? [row("round closed to the dashboard (headless Chromium)", result.dashboard)] : []),
  row("event published (its `at`) to subscriber", result.fromPublish),
  row("round closed to event published (in the job)", result.closeToPublish),
  row("ceiling: keep-alive round trip, same connection", result.keepAlive),
].join("\n");
const idleText = idle
  ? `| idle for | instance before | instance after | calls since | left memory | cancel reached the subscriber after |\n| ---: | --- | --- | ---: | --- | ---: |\n| ${idle.seconds} s | ${idle.before.slice(0, 8)} | ${idle.after.slice(0, 8)} | ${idle.callsSince} | ${idle.leftMemory ? "yes" : "no"} | ${idle.cancelReceivedMs === null ? "never" : `${idle.cancelReceivedMs} ms`} |`
  : "(skipped: --idle 0)";
const worst = Math.max(result.fromClose.p99, result.dashboard?.p99 ?? 0);
const verdict = worst < 100 ? "under" : "over";
const doc = `# Live job events: latency to the owner

Command: \`${command}\`. Machine: ${machine}; load average (1, 5, 15 min) ${load.before.join(", ")} before, ${load.after.join(", ")} after. Date: ${date}.

A ${rounds}-round job with ${devices} Node devices (the task loop on push connections, a synthetic
delta instead of training, in a process of their own) under \`wrangler dev\` on loopback, followed
by one owner's subscriber (\`JobEventSubscription\`, in the benchmark's process, as \`propius jobs
follow\` runs it) on \`GET /v1/jobs/:id/events\`${withDashboard ? ", and by the owner dashboard in headless Chromium, signed in on the job's page (its socket's round-closed messages stamped on arrival by a listener added before the page's own)" : ""}. Latency is the subscriber's clock on receipt minus the job's own stamp
(same machine, one clock): the round record's \`closedAt\`, and the event's \`at\` (when the job
published it). The ceiling is a keep-alive round trip on the same connection (ping answered by the
platform, ${args.pings} after each close), in the same run. ${result.events} events were received,
the round closes ${result.inOrder ? "in order" : "OUT OF ORDER"}.

${table}

p99 from a round closing to the subscriber: ${fmt(result.fromClose.p99)} ms${result.dashboard ? `, to the dashboard: ${fmt(result.dashboard.p99)} ms` : ""}; ${verdict} the 100 ms
target. (With ${rounds} samples, p99 is the largest of them: the worst case of the run.)
Workers' clocks advance at I/O, so \`closedAt\` may be stamped before the last CPU work of the
close: the figures lean high, not low.

## An idle subscribed job leaves memory

A second job, running with no devices and one subscriber (keep-alive pings every 10 s), left alone;
the job object's counters (\`GET /v1/admin/counters?job=<id>\`) before and after: a new instance id
with no calls since means the object left memory while the subscriber's connection stayed open.
Then the job is cancelled, and the subscriber must still hear of it.

${idleText}
`;
await writeFile(`${args.out}.json`, `${JSON.stringify({ date, machine, load, command, rounds, devices, result, idle }, null, 2)}\n`);
await writeFile(`${args.out}.md`, doc);
process.stdout.write(`\n${table}\n\n${idleText}\n\nwrote ${args.out}.md and ${args.out}.json\n`);
process.exitCode = idle && (!idle.leftMemory || idle.cancelReceivedMs === null) ? 1 : 0;
