import { CheckInChannel, DeviceClient, OwnerClient } from "@propius/edge-runtime";
import { linearModel } from "@propius/edge-runtime/demo";
import type { JobSpecInput, Task } from "@propius/shared";
import type { CountersTotal } from "../../control/src/diagnostics/counters-total.js";
import { nodeWebSocket } from "../../node-client/src/web-socket.js";
import { PHASES, devicesFetch, runRound, type Phase, type Requests } from "./contribution-rounds.js";
import { countedConnector, noFrames, type Frames } from "./counted-web-socket.js";
import type { ByProcess, Transport } from "./contribution-figures.js";
import { startControlPlane, type RunningControlPlane } from "./local-control-plane.js";
import { freePort } from "./ports.js";
import { bindOverPush, runPushRound, type Bindings, type PushDevice } from "./push-rounds.js";
import { cpuMs, workerdRoles } from "./workerd-process.js";

export interface TransportOptions {
  transport: Transport;
  script: string;
  dir: string;
  adminKey: string;
  parameters: number;
  devices: number;
  rounds: number;
  concurrency: number;
  shards: number;
  /** The devices' deltas, the same for both transports. */
  deltas: Float32Array[];
  closeMs: number;
  /** Device i waits spreadMs x i / devices before its upload (training times that differ). */
  spreadMs: number;
}

/**
 * One transport's side of the benchmark: its own control plane under `wrangler dev` (so that its
 * workerd CPU and its objects' counters are its own), a job, and devices that check in over HTTP
 * or over push connections; it runs its rounds as the benchmark alternates them with the other's.
 */
export class TransportBench {
  readonly frames: Frames = noFrames();
  readonly bindings: Bindings = { answered: 0, pushed: 0, waits: {} };
  readonly phases = Object.fromEntries(["between", ...PHASES].map((p) => [p, { worker: 0, proxy: 0 }])) as Record<Phase | "between", ByProcess>;
  private last: ByProcess = { worker: 0, proxy: 0 };
  private bound: Promise<Task>[] = [];

  private constructor(
    readonly options: TransportOptions,
    readonly plane: RunningControlPlane,
    readonly owner: OwnerClient,
    readonly jobId: string,
    readonly clients: DeviceClient[],
    readonly pushDevices: PushDevice[],
    readonly requests: Requests,
    private readonly roles: { proxy: number[]; worker: number[] },
  ) {}

  static async start(options: TransportOptions): Promise<TransportBench> {
    const port = await freePort();
    const plane = await startControlPlane({
      port, script: options.script, persistTo: `${options.dir}/${options.transport}-state`, logFile: `${options.dir}/${options.transport}-wrangler.log`,
      vars: { PROPIUS_ADMIN_KEY: options.adminKey, PROPIUS_TOKEN_SECRET: "bench-token-secret" },
    });
    try {
      const { apiKey } = await OwnerClient.createTenant({ baseUrl: plane.url, adminKey: options.adminKey, name: "bench" });
      const owner = new OwnerClient({ baseUrl: plane.url, apiKey });
      // One warm-up round, the measured ones, and one more so that the last measured round closes as any other.
      const spec: JobSpecInput = {
        name: `contribution-${options.transport}`, model: linearModel(options.parameters / 10, 10),
        plan: { rounds: options.rounds + 2, clientsPerRound: options.devices, overCommit: 1, roundDeadlineSeconds: 3_600, localSteps: 1, aggregatorShards: options.shards },
      };
      const job = await owner.setInitialModel(await owner.createJob(spec), spec, new Float32Array(options.parameters));
      const { fetch, requests } = devicesFetch(options.concurrency);
      const clients = await Promise.all(Array.from({ length: options.devices }, async () => {
        const device = new DeviceClient({ baseUrl: plane.url, fetch });
        await device.register({});
        return device;
      }));
      const bench = new TransportBench(options, plane, owner, job.id, clients, [], requests, workerdRoles(plane.process.pid!, port));
      if (bench.roles.proxy.length !== 1 || bench.roles.worker.length !== 1) throw new Error(`expected wrangler's two workerd processes (proxy and Worker), found ${JSON.stringify(bench.roles)}`);
      if (options.transport === "push") {
        const connector = countedConnector(nodeWebSocket(), bench.frames);
        for (const client of clients) bench.pushDevices.push({ client, channel: new CheckInChannel(client, connector, () => undefined) });
      }
      return bench;
    } catch (error) {
      await plane.stop();
      throw error;
    }
  }

  get transport(): Transport {
    return this.options.transport;
  }

  /** CPU milliseconds of this plane's two workerd processes so far. */
  cpu(): ByProcess {
    return { worker: cpuMs(this.roles.worker), proxy: cpuMs(this.roles.proxy) };
  }

  async counters(): Promise<CountersTotal> {
    const response = await fetch(`${this.plane.url}/v1/admin/counters?job=${this.jobId}`, { headers: { authorization: `Bearer ${this.options.adminKey}` } });
    if (!response.ok) throw new Error(`GET /v1/admin/counters answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as CountersTotal;
  }

  /** Push devices open their connections (once: not part of any contribution). */
  async connect(): Promise<void> {
    const held = await Promise.all(this.pushDevices.map((d) => d.channel.connect()));
    if (held.some((ok) => !ok)) throw new Error(`${held.filter((ok) => !ok).length} devices could not open their push connections`);
  }

  /** Round `round` of the job; `measured` accounts its CPU by step (and the CPU since this plane's last round as "between"). */
  async round(round: number, measured: boolean): Promise<void> {
    const mark = (phase: Phase | "between") => {
      const now = this.cpu();
      if (measured) {
        this.phases[phase].worker += now.worker - this.last.worker;
        this.phases[phase].proxy += now.proxy - this.last.proxy;
      }
      this.last = now;
    };
    mark("between");
    const { deltas, closeMs, spreadMs } = this.options;
    if (this.transport === "http") return runRound({ clients: this.clients, deltas, round, closeMs, spreadMs, mark });
    if (round === 1) this.bound = this.pushDevices.map((device, i) => bindOverPush(device, i, 1, this.bindings));
    this.bound = await runPushRound({ devices: this.pushDevices, deltas, round, closeMs, spreadMs, bound: this.bound, bindings: this.bindings, mark });
  }

  /** Starts the counts of the measured rounds. */
  startMeasuring(): void {
    Object.assign(this.requests, { checkIns: 0, downloads: 0, uploads: 0, other: 0 });
    Object.assign(this.frames, noFrames());
    Object.assign(this.bindings, { answered: 0, pushed: 0, waits: {} });
    this.last = this.cpu();
  }

  /** Waits for the pushes of the round after the last measured one, and closes the connections. */
  async stop(): Promise<void> {
    try {
      await Promise.allSettled(this.bound);
      for (const device of this.pushDevices) device.channel.close();
    } finally {
      await this.plane.stop("SIGTERM");
    }
  }
}
