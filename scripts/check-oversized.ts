/**
 * `npm run check:oversized`: do bodies refused as too large break the requests beside them? Starts
 * the control plane under `wrangler dev`, then sends valid requests (an enrolled device's check-ins
 * and a job's status reads) from `--concurrency` connections while a few bodies over the JSON limit
 * go to the same routes, and counts the valid requests that failed and the times wrangler or its
 * workerd processes exited. Half the oversized bodies state their length, half are streamed
 * without one. `--requests` (default 1500) valid, `--oversized` (default 15) refused.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildWorkerBundle, stopBundler } from "./lib/bundles.js";
import { startControlPlane } from "./lib/local-control-plane.js";
import { freePort } from "./lib/ports.js";
import { workerdRoles } from "./lib/workerd-process.js";
import { send } from "./lib/fuzz-send.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "1500" }, oversized: { type: "string", default: "15" }, truncated: { type: "string", default: "0" }, concurrency: { type: "string", default: "10" } } });
const total = Number(values.requests);
const truncated = Number(values.truncated) > 0;
const oversized = truncated ? Number(values.truncated) : Number(values.oversized);
const concurrency = Number(values.concurrency);
const ADMIN_KEY = "oversized-admin-key";

const script = await buildWorkerBundle();
await stopBundler();
const dir = await mkdtemp(join(tmpdir(), "propius-oversized-"));
const port = await freePort();
const plane = await startControlPlane({ port, script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"), vars: { PROPIUS_ADMIN_KEY: ADMIN_KEY, PROPIUS_TOKEN_SECRET: "oversized-token-secret" } });
let failed = true;
try {
  const post = (path: string, body: BodyInit, token?: string) =>
    fetch(`${plane.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) }, body, duplex: "half" } as RequestInit);
  /** The same bytes streamed in 64 KiB chunks, without a Content-Length. */
  const streamed = (bytes: Uint8Array) => {
    let offset = 0;
    return new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, (offset += 64 << 10)));
      },
    });
  };
  const { token } = (await (await post("/v1/clients", "{}")).json()) as { token: string };
  const pids = workerdRoles(plane.process.pid!, port);
  const big = new Uint8Array((1 << 20) + (256 << 10)).fill(0x20); // over the 1 MiB JSON limit
  const failures: string[] = [];
  const refused: Record<string, number> = {};
  let next = 0;
  let sentOversized = 0;
  const every = Math.max(1, Math.floor(total / Math.max(1, oversized)));
  const started = Date.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      if (i % every === 0 && sentOversized < oversized) {
        sentOversized++;
        // By turns: to enrolment and to check-in, with a Content-Length and streamed without one.
        const path = sentOversized % 2 ? "/v1/clients" : "/v1/checkin";
        if (truncated) {
          void send(new URL(plane.url), { route: path, method: "POST", path, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: new TextEncoder().encode(JSON.stringify({ attributes: { platform: "node" } })), transport: "truncated", mutation: "", mustRefuse: true })
            .then((o) => { refused[o.status ?? "no answer"] = (refused[o.status ?? "no answer"] ?? 0) + 1; });
        } else void post(path, sentOversized % 4 < 2 ? big : streamed(big), token)
          .then(async (r) => { await r.arrayBuffer(); refused[r.status] = (refused[r.status] ?? 0) + 1; })
          .catch((e: Error) => { refused[`failed: ${e.cause ?? e.message}`] = (refused[`failed: ${e.cause ?? e.message}`] ?? 0) + 1; });
      }
      try {
        const response = i % 2 ? await post("/v1/checkin", JSON.stringify({ attributes: { platform: "node" } }), token) : await fetch(`${plane.url}/v1/health`);
        const text = await response.text();
        if (response.status !== 200) failures.push(`${response.status} ${text.slice(0, 80)}`);
      } catch (error) {
        failures.push(`fetch failed: ${String((error as Error).cause ?? (error as Error).message)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = workerdRoles(plane.process.pid!, port);
  const exited = plane.process.exitCode !== null || plane.process.signalCode !== null;
  const restarted = [...pids.proxy, ...pids.worker].filter((pid) => ![...after.proxy, ...after.worker].includes(pid)).length;
  const byKind = new Map<string, number>();
  for (const f of failures) byKind.set(f, (byKind.get(f) ?? 0) + 1);
  process.stdout.write(`${total} valid requests beside ${sentOversized} oversized bodies in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`valid requests failed: ${failures.length}\n${[...byKind].map(([k, n]) => `  ${n} x ${k}`).join("\n")}\n`);
  process.stdout.write(`oversized bodies answered: ${JSON.stringify(refused)}\n`);
  process.stdout.write(`wrangler exited: ${exited ? "yes" : "no"}; workerd processes gone: ${restarted} of ${pids.proxy.length + pids.worker.length}\n`);
  failed = failures.length > 0 || exited || restarted > 0;
} finally {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
