// `npm run profile:load`: a CPU profile of the control plane (the Worker and its Durable Objects,
// under `wrangler dev`) while the load benchmark's devices run: where a binding's CPU goes. Writes
// the profile for Chrome DevTools and prints the functions with the most self time, and the
// callers of SQL statements.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { nodeWebSocket } from "../node-client/src/web-socket.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { callersOf, profileWorker, selfTimes } from "./lib/cpu-profile.js";
import { driveDevices } from "./lib/load-driver.js";
import { createWorkloadJobs, enrolDevices, loadInputs } from "./lib/load-setup.js";
import { startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { connectDevices, drivePushDevices } from "./lib/push-load-driver.js";

const HELP = `npm run profile:load -- [options]

  --devices <n>        simulated devices (default 1000; push at most 2000: wrangler dev runs out of open files near 3,300 connections, and the inspector needs some)
  --transport <name>   http or push (default push)
  --policy <name>      SCHEDULING_POLICY (default irs)
  --seconds <s>        how long the devices run while profiled (default 15)
  --concurrency <n>    requests or check-in frames in flight (default 64)
  --top <n>            functions listed (default 30)
  --out <file>         the .cpuprofile (default profile-load.cpuprofile in the temp folder)
`;
const { values: args } = parseArgs({
  options: {
    devices: { type: "string", default: "1000" }, transport: { type: "string", default: "push" }, policy: { type: "string", default: "irs" },
    seconds: { type: "string", default: "15" }, concurrency: { type: "string", default: "64" }, top: { type: "string", default: "30" },
    out: { type: "string", default: join(tmpdir(), "profile-load.cpuprofile") }, help: { type: "boolean", short: "h" },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const [count, seconds, concurrency, top] = [args.devices, args.seconds, args.concurrency, args.top].map(Number);
if (![count, seconds, concurrency, top].every((n) => Number.isInteger(n) && n > 0) || !["http", "push"].includes(args.transport) || (args.transport === "push" && count > 2000)) {
  process.stderr.write(`profile:load: options take positive integers, --transport http or push (push with at most 2000 devices)\n\n${HELP}`);
  process.exit(2);
}

const ADMIN_KEY = "profile-admin-key";
const inputs = await loadInputs();
const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-profile-"));
const inspectorPort = await freePort();
const plane = await startControlPlane({
  port: await freePort(), script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"), inspectorPort,
  vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "profile-token-secret", SCHEDULING_POLICY: args.policy },
});
try {
  await createWorkloadJobs(plane.url, ADMIN_KEY, inputs);
  const { list: devices } = await enrolDevices(plane.url, count, inputs, concurrency);
  const sessions = args.transport === "push" ? await connectDevices(plane.url, devices, nodeWebSocket(), concurrency) : [];
  process.stdout.write(`${count} devices over ${args.transport}, ${args.policy}: profiling ${seconds} s ...\n`);
  const options = { url: plane.url, devices, tensors: inputs.model.weightSpecs, seconds, concurrency };
  const { result: figures, profile } = await profileWorker(inspectorPort, () => (sessions.length ? drivePushDevices({ ...options, sessions }) : driveDevices(options)));
  for (const session of sessions) session.close();
  await writeFile(args.out, JSON.stringify(profile));

  const times = selfTimes(profile);
  const total = times.reduce((sum, t) => sum + t.ms, 0);
  const busy = total - (times.find((t) => t.name.startsWith("(idle)"))?.ms ?? 0);
  console.log(`${figures.bindings} bindings, ${figures.checkIns} check-ins, ${figures.reports} reports, ${figures.errors} errors in ${figures.seconds.toFixed(1)} s`);
  for (const sample of figures.errorSamples) console.log(`  error: ${sample}`);
  console.log(`isolate busy ${busy.toFixed(0)} ms (${(busy / Math.max(1, figures.bindings)).toFixed(2)} ms per binding); self time, most first:`);
  for (const t of times.slice(0, top)) console.log(`${t.ms.toFixed(0).padStart(8)} ms ${((100 * t.ms) / busy).toFixed(1).padStart(5)} %  ${t.name}`);
  console.log("\nSQL statements (`exec`) by caller:");
  for (const c of callersOf(profile, "exec", 2).slice(0, 15)) console.log(`${c.ms.toFixed(0).padStart(8)} ms  ${c.chain}`);
  console.log(`\nwrote ${args.out} (open it in Chrome DevTools' Performance panel)`);
} finally {
  await plane.stop("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
