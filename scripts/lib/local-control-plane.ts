import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { waitUntilReachable } from "@propius/edge-runtime";
import { ROOT } from "./node-bundle.mjs";
import { ensurePageFolder } from "./page-placeholder.js";
import { WEB_PAGE_DIR } from "./web-page.js";

export { ROOT };

/** Keeps wrangler from reaching outside hosts at start (metrics, cf fetch) and quiet. */
export const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" };

/**
 * What a local control plane runs with unless the caller says otherwise: no per-address limit, since
 * every device on the machine comes from 127.0.0.1 (a benchmark enrols thousands). The per-key and
 * per-device limits keep their defaults.
 */
export const LOCAL_VARS: Record<string, string> = { RATE_LIMIT_ADDRESS_PER_MINUTE: "0" };

export interface ControlPlaneOptions {
  port: number;
  /** Folder for local Durable Object (SQLite) and R2 state; survives restarts. */
  persistTo: string;
  /** A .env file with the Worker's secrets. */
  envFile?: string;
  /** Extra variables (`--var KEY:VALUE`). */
  vars?: Record<string, string>;
  /** Where wrangler's own output goes (default: a log file beside the state folder). */
  logFile?: string;
  /** How long to wait for it to answer (default 180 s: a cold start on a small machine takes over a minute). */
  timeoutMs?: number;
  /**
   * A prebuilt Worker (see `buildWorkerBundle`) to run as is (`--no-bundle`), instead of wrangler
   * bundling wrangler.toml's `main` and watching its sources.
   */
  script?: string;
  /** The port of the Worker's inspector (Chrome DevTools protocol), for a CPU profile; wrangler's default when unset. */
  inspectorPort?: number;
}

export interface RunningControlPlane {
  url: string;
  process: ChildProcess;
  logFile: string;
  /** Stops wrangler: SIGTERM, or SIGKILL to simulate a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the control plane under `wrangler dev` (embedded workerd, local storage) and waits until it
 * answers. It needs no built page: a missing assets folder gets the stand-in page, and wrangler
 * serves the real one once `npm run build:web` writes it (it watches the folder and reloads).
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const logFile = options.logFile ?? join(dirname(resolve(options.persistTo)), "wrangler.log");
  await Promise.all([mkdir(dirname(logFile), { recursive: true }), ensurePageFolder(WEB_PAGE_DIR)]);
  const args = [
    join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev",
    ...(options.script ? [resolve(options.script), "--no-bundle"] : []),
    "--config", join(ROOT, "wrangler.toml"),
    "--ip", "127.0.0.1", "--port", String(options.port),
    "--persist-to", resolve(options.persistTo),
    "--log-level", process.env.PROPIUS_WRANGLER_LOG_LEVEL ?? "warn", "--show-interactive-dev-session=false",
    ...(options.envFile ? ["--env-file", resolve(options.envFile)] : []),
    ...(options.inspectorPort ? ["--inspector-port", String(options.inspectorPort)] : []),
    ...Object.entries({ ...LOCAL_VARS, ...options.vars }).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  // Each control plane has a dev registry of its own: wrangler dev instances of one Worker name share
  // `~/.config/.wrangler/registry` by default, and one starting or stopping beside this one restarts
  // this one's Worker (requests in flight get 503 "Your worker restarted mid-request").
  const registry = join(resolve(options.persistTo), ".wrangler-registry");
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...WRANGLER_ENV, WRANGLER_REGISTRY_PATH: registry }, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const log = createWriteStream(logFile, { flags: "a" });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const url = `http://127.0.0.1:${options.port}`;
  const exited = once(child, "exit");
  const stop = async (signal: NodeJS.Signals = "SIGTERM") => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const signalled = (sent: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sent); // the whole group: wrangler and its workerd
      } catch {
        child.kill(sent);
      }
    };
    signalled(signal);
    // Bounded: a wrangler that has not left 15 s after SIGTERM is killed.
    const late = setTimeout(() => signalled("SIGKILL"), 15_000);
    await exited;
    clearTimeout(late);
  };
  // Stop waiting as soon as wrangler exits (a port in use, a bad config: its log says why).
  const gone = new AbortController();
  void exited.then(() => gone.abort(new Error(`wrangler dev exited with code ${child.exitCode}; see ${logFile}`)));
  try {
    await waitUntilReachable(url, { timeoutMs: options.timeoutMs ?? 180_000, signal: gone.signal });
  } catch (error) {
    // Read before stopping: the SIGKILL below ends wrangler too, and would look like an exit of its own.
    const reason = gone.signal.aborted ? gone.signal.reason : new Error(`${(error as Error).message}; see ${logFile}`);
    await stop("SIGKILL");
    throw reason;
  }
  return { url, process: child, logFile, stop };
}
