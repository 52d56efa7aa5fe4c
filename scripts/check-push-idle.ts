/**
 * `npm run check:push-idle`: do idle push connections keep client-manager shards awake? Starts the
 * control plane, connects devices that wait on their push connections (no job runs), leaves them
 * idle (keep-alive pings only), then reads the shards' counters: a shard that left memory answers
 * with a new instance id and no calls since. Finally starts a job and checks that every waiting
 * device is pushed a task by the shards that woke for it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DeviceClient, OwnerClient, PushSession } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobSpecInput } from "@propius/shared";
import type { CountersTotal } from "../control/src/diagnostics/counters-total.js";
import { nodeWebSocket } from "../node-client/src/web-socket.js";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";

const { values } = parseArgs({ options: { devices: { type: "string", default: "8" }, idle: { type: "string", default: "75" } } });
const devices = Number(values.devices);
const idleSeconds = Number(values.idle);
const ADMIN_KEY = "idle-admin-key";

const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-idle-"));
const plane = await startControlPlane({
  port: await freePort(), script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"),
  vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "idle-token-secret" },
});
const shards = async () => {
  const response = await fetch(`${plane.url}/v1/admin/counters`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return ((await response.json()) as CountersTotal).objects.filter((o) => o.class === "ClientManagerObject");
};
let failed = false;
try {
  const sessions: PushSession[] = [];
  for (let i = 0; i < devices; i++) {
    const client = new DeviceClient({ baseUrl: plane.url });
    await client.register({});
    const session = await PushSession.open(nodeWebSocket(), plane.url, client.credentials!.token);
    const reply = await session.checkIn({});
    if (reply.status !== "wait") throw new Error(`expected a wait with no job running, got ${reply.status}`);
    sessions.push(session);
  }
  const before = await shards();
  process.stdout.write(`${devices} devices wait on push connections; idle for ${idleSeconds} s (keep-alive pings only) ...\n`);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const after = await shards();
  process.stdout.write("\n| shard | instance before | instance after | calls since | left memory |\n| --- | --- | --- | ---: | --- |\n");
  for (const shard of after) {
    const earlier = before.find((b) => b.name === shard.name);
    const calls = Object.values(shard.calls).reduce((a, b) => a + b, 0);
    process.stdout.write(`| ${shard.name} | ${earlier?.instance.slice(0, 8) ?? "-"} | ${shard.instance.slice(0, 8)} | ${calls} | ${earlier && earlier.instance !== shard.instance ? "yes" : "no"} |\n`);
  }
  const open = sessions.filter((s) => s.open).length;
  const stayed = after.filter((s) => before.some((b) => b.name === s.name && b.instance === s.instance)).length;
  process.stdout.write(`\nconnections still open: ${open}/${devices}; shards that stayed in memory: ${stayed}/${after.length}\n`);

  const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: ADMIN_KEY, name: "idle" });
  const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
  const spec: JobSpecInput = { name: "idle-push", model: linearModel(4, 2), plan: { rounds: 1, clientsPerRound: devices, overCommit: 1, roundDeadlineSeconds: 600, localSteps: 1 } };
  const started = Date.now();
  await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(8));
  const pushed = await Promise.all(sessions.map((s) => s.nextPush(15_000).then((reply) => (reply?.status === "task" ? Date.now() - started : null))));
  const got = pushed.filter((ms): ms is number => ms !== null);
  process.stdout.write(`after the job started: ${got.length}/${devices} devices were pushed a task, the last ${Math.max(...got, 0)} ms after the model was set\n`);
  failed = open !== devices || got.length !== devices;
  for (const s of sessions) s.close();
} finally {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
