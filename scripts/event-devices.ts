/**
 * Node devices for the live-events job (`scripts/lib/event-job.ts`), in a process of their own so
 * that the subscriber's process does nothing but receive: `node scripts/run.mjs
 * scripts/event-devices.ts --url <control plane> --devices <n> --tasks <n>`. Each device runs the
 * task loop on a push connection with a synthetic delta for training, and the process exits once
 * every device has had its tasks accepted (or on SIGTERM).
 */
import { parseArgs } from "node:util";
import { DeviceClient, runTaskLoop, type Trainer } from "@propius/edge-runtime";
import { nodeWebSocket } from "../node-client/src/web-socket.js";

const { values } = parseArgs({ options: { url: { type: "string" }, devices: { type: "string", default: "4" }, tasks: { type: "string", default: "20" } } });
if (!values.url) throw new Error("--url is required");
const url = values.url;

/** A stand-in for local training: a small delta at once (the benchmark measures the platform, not tfjs). */
const trainer: Trainer = async (_task, weights) => ({ delta: new Float32Array(weights.length).fill(0.01), examples: 10, trainLoss: 1 });

const abort = new AbortController();
process.once("SIGTERM", () => abort.abort());
const loops = Array.from({ length: Number(values.devices) }, async () => {
  const client = new DeviceClient({ baseUrl: url });
  await client.register({});
  return runTaskLoop({ client, trainer, maxTasks: Number(values.tasks), push: nodeWebSocket(), signal: abort.signal, pingIntervalMs: 0 });
});
const results = await Promise.allSettled(loops);
const failed = results.filter((r) => r.status === "rejected");
for (const r of failed) process.stderr.write(`device failed: ${(r as PromiseRejectedResult).reason}\n`);
process.exit(failed.length > 0 && !abort.signal.aborted ? 1 : 0);
