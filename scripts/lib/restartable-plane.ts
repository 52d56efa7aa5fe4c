import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OwnerClient } from "@propius/edge-runtime";
import { startControlPlane, type RunningControlPlane } from "./local-control-plane.js";
import { freePort } from "./ports.js";

export interface RestartablePlaneOptions {
  /** The prebuilt Worker (see `buildWorkerBundle`), or how to get it the first time it is needed. */
  script: string | (() => Promise<string>);
  /** The admin key the plane is given (`PROPIUS_ADMIN_KEY`); tenants are made with it. */
  adminKey: string;
  /** More Worker variables, for example `SCHEDULER_VIEW_TTL_MS`. */
  vars?: Record<string, string>;
  /** A prefix for its state folder under the temp folder. */
  name?: string;
}

/**
 * A control plane under `wrangler dev` with its own state folder and port, restartable on the same
 * state: what the restart and fault suites kill and bring back.
 */
export class RestartablePlane {
  running: RunningControlPlane | undefined;
  /** The Worker's inspector port (DevTools protocol) of the running start. */
  inspectorPort = 0;
  /** How long each start took until the plane answered, in ms. */
  readonly startMs: number[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: RestartablePlaneOptions,
  ) {}

  static async start(options: RestartablePlaneOptions): Promise<RestartablePlane> {
    const plane = new RestartablePlane(await mkdtemp(join(tmpdir(), `${options.name ?? "propius-plane"}-`)), await freePort(), options);
    await plane.restart();
    return plane;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The local storage folder (`--persist-to`): Durable Objects, R2; kept across restarts. */
  get persistTo(): string {
    return join(this.dir, "state");
  }

  get adminKey(): string {
    return this.options.adminKey;
  }

  /** The wrangler process (workerd runs below it), while one runs. */
  get pid(): number | undefined {
    return this.running?.process.pid;
  }

  /** Starts wrangler dev on the plane's state and port, and waits until it answers. */
  async restart(): Promise<void> {
    const { script } = this.options;
    const started = Date.now();
    this.inspectorPort = await freePort();
    // An inspector port of its own: wrangler's default (9229) is taken by any other wrangler dev on the machine.
    this.running = await startControlPlane({
      port: this.port, inspectorPort: this.inspectorPort, script: typeof script === "string" ? script : await script(), persistTo: this.persistTo,
      vars: { ...this.options.vars, PROPIUS_ADMIN_KEY: this.options.adminKey, PROPIUS_TOKEN_SECRET: `${this.options.adminKey}-token-secret` },
      logFile: join(this.dir, "wrangler.log"),
    });
    this.startMs.push(Date.now() - started);
  }

  /** SIGKILL to wrangler and its workerd processes: they get no chance to flush or shut down cleanly. */
  async kill(): Promise<void> {
    await this.running?.stop("SIGKILL");
  }

  async dispose(): Promise<void> {
    await this.running?.stop("SIGTERM");
    await rm(this.dir, { recursive: true, force: true });
  }

  async owner(tenant = "owner"): Promise<OwnerClient> {
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: this.url, adminKey: this.options.adminKey, name: tenant });
    return new OwnerClient({ baseUrl: this.url, apiKey });
  }
}
