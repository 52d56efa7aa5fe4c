import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { OwnerClient, type LoopEvent } from "@propius/edge-runtime";
import { demoModel, demoTestSet, loadDigits } from "@propius/edge-runtime/demo";
import { evaluate, initTraining, type LocalData } from "@propius/edge-runtime/training";
import type { JobSpecInput, JobStatus, RoundRecord } from "@propius/shared";
import { buildWorkerBundle, stopBundler } from "./bundles.js";
import { startControlPlane, type RunningControlPlane } from "./local-control-plane.js";
import { ensureDevVars } from "./local-secrets.js";
import { freePort } from "./ports.js";
import { enrolDevices, runDevices, type Attack, type BenchDevice } from "./poisoning-devices.js";

export const DEVICES = 8;

/**
 * The demo MLP as the robustness and privacy benchmarks run it: plain FedAvg, `DEVICES` devices a
 * round, 2 local epochs at the demo's learning rate 0.4, batch 32, no held-out examples; `extra`
 * adds the job's robustness, privacy or aggregation.
 */
export function benchJobSpec(name: string, rounds: number, extra: Partial<JobSpecInput> = {}): JobSpecInput {
  const model = demoModel();
  return {
    name,
    model: { format: "tfjs-layers", topology: model.topology, weightSpecs: model.weightSpecs },
    plan: { rounds, clientsPerRound: DEVICES, overCommit: 1, minReportFraction: 1, roundDeadlineSeconds: 120, localEpochs: 2, batchSize: 32, learningRate: 0.4, validationSplit: 0 },
    aggregation: { strategy: "fedavg" },
    input: { kind: "image", width: 28, height: 28, channels: 1, classes: 10 },
    ...extra,
  };
}

/** One job's outcome: the final model's test figures and how the job ended. */
export interface JobRun { accuracy: number; loss: number; roundsClosed: number; state: string; seconds: number; closed: RoundRecord[] }

export interface BenchPlane {
  owner: OwnerClient;
  devices: BenchDevice[];
  test: LocalData;
  initialAccuracy: number;
  /** One job from the demo's initial weights, `attack` on the last `attackers` devices (none: all honest); honest delta norms to `onNorm`. */
  run(spec: JobSpecInput, options?: { attack?: Attack; attackers?: number; onNorm?: (norm: number) => void; onLoopEvent?: (device: number, event: LoopEvent) => void }): Promise<JobRun>;
  stop(): Promise<void>;
}

/** Starts the control plane under `wrangler dev` with fresh state, a tenant, and `DEVICES` enrolled in-process devices (demo shards, split `seed`). */
export async function startBenchPlane(seed: number): Promise<BenchPlane> {
  const dir = await mkdtemp(join(tmpdir(), "propius-bench-"));
  const devVars = join(dir, "dev.vars");
  const { adminKey } = await ensureDevVars(devVars);
  const script = await buildWorkerBundle();
  await stopBundler();
  console.log("starting the control plane (wrangler dev, fresh state) ...");
  let controlPlane: RunningControlPlane | null = null;
  const stop = async () => {
    await controlPlane?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    controlPlane = await startControlPlane({ port: await freePort(), script, persistTo: join(dir, "state"), envFile: devVars, logFile: join(dir, "wrangler.log") });
    await initTraining({ prefer: ["wasm"] });
    await loadDigits();
    const test = await demoTestSet();
    const { apiKey } = await OwnerClient.createTenant({ baseUrl: controlPlane.url, adminKey, name: "bench" });
    const owner = new OwnerClient({ baseUrl: controlPlane.url, apiKey });
    const devices = await enrolDevices(controlPlane.url, DEVICES, seed);
    const spec0 = benchJobSpec("initial", 1);
    const initialAccuracy = (await evaluate({ model: spec0.model, weights: demoModel().initialWeights, data: test })).accuracy;
    console.log(`${DEVICES} devices enrolled; the initial model's test accuracy ${initialAccuracy.toFixed(4)}`);
    const run: BenchPlane["run"] = async (spec, options = {}) => {
      const started = performance.now();
      const rounds = spec.plan.rounds;
      const job = await owner.setInitialModel(await owner.createJob(spec), spec, demoModel().initialWeights);
      devices.forEach((d) => (d.attack = options.attack && d.index >= DEVICES - (options.attackers ?? 1) ? options.attack : null));
      const abort = new AbortController();
      const running = runDevices(devices, { tasks: rounds, seed, signal: abort.signal, onNorm: options.onNorm, onLoopEvent: options.onLoopEvent, onEvent: (i, line) => console.log(`    device ${i}: ${line}`) });
      // A poisoned model can make honest training diverge (non-finite deltas are refused): a run
      // whose updates stop coming ends after 45 s without one.
      let status: JobStatus = job;
      let progress = "";
      let progressAt = Date.now();
      while (status.state === "running" && Date.now() - progressAt < 45_000) {
        await new Promise((r) => setTimeout(r, 500));
        status = await owner.status(job.id);
        const now = status.rounds.map((x) => `${x.round}/${x.attempt}:${x.reported}:${x.status}`).join(",");
        if (now !== progress) [progress, progressAt] = [now, Date.now()];
      }
      if (status.state === "running") status = await owner.cancel(job.id);
      abort.abort();
      await running;
      const weights = await owner.weights(job.id, status.modelHash ?? undefined);
      const result = await evaluate({ model: spec.model, weights, data: test });
      const closed = status.rounds.filter((r) => r.status === "closed");
      return { accuracy: result.accuracy, loss: result.loss, roundsClosed: closed.length, state: status.state, seconds: Number(((performance.now() - started) / 1000).toFixed(1)), closed };
    };
    return { owner, devices, test, initialAccuracy, run, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
