import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { startControlPlane } from "./local-control-plane.js";
import { freePort } from "./ports.js";
import { workerdRoles } from "./workerd-process.js";

/**
 * A Worker with no application code: it reads each request's body to its end and answers "ok".
 * It exports the Durable Object classes wrangler.toml binds, so that it runs under the same
 * configuration (assets, bindings, local storage) as the control plane.
 */
const ONE_LINE_WORKER = `
class Idle { fetch() { return new Response("ok"); } }
export class JobObject extends Idle {}
export class DirectoryObject extends Idle {}
export class ClientManagerObject extends Idle {}
export class AggregatorObject extends Idle {}
export default { async fetch(request) { await request.arrayBuffer().catch(() => undefined); return new Response("ok"); } };
`;

export interface OneLineWorker {
  url: string;
  inspectorPort: number;
  /** The workerd process that runs the Worker (not wrangler's proxy in front of it). */
  pids: number[];
  stop(): Promise<void>;
}

/**
 * The one-line Worker under `wrangler dev`, as `npm start` runs the control plane, with an
 * inspector: what the runtime itself takes for a run's requests, measured beside the control plane.
 */
export async function startOneLineWorker(): Promise<OneLineWorker> {
  const dir = await mkdtemp(join(tmpdir(), "propius-one-line-worker-"));
  // A folder of its own: wrangler dev watches the folder of a script it does not bundle, and the
  // local storage written beside it would reload the Worker again and again.
  const script = join(dir, "worker", "one-line-worker.mjs");
  await mkdir(dirname(script));
  await writeFile(script, ONE_LINE_WORKER);
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const removed = () => rm(dir, { recursive: true, force: true });
  try {
    const plane = await startControlPlane({ port, script, persistTo: join(dir, "state"), logFile: join(dir, "wrangler.log"), inspectorPort });
    const pids = workerdRoles(plane.process.pid!, port).worker;
    return { url: plane.url, inspectorPort, pids, stop: async () => (await plane.stop(), await removed()) };
  } catch (error) {
    // The folder goes, and its log with it: what wrangler said comes along in the error.
    const said = await readFile(join(dir, "wrangler.log"), "utf8").catch(() => "");
    await removed();
    throw new Error(`the one-line Worker did not start: ${(error as Error).message.replace(/; see .*$/, "")}${said ? `; wrangler said: ${said.trim().split("\n").slice(-10).join(" | ")}` : ""}`);
  }
}
