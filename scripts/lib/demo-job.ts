import { OwnerClient } from "@propius/edge-runtime";
import { demoAggregation, demoModel, demoPlan, demoTestSet, loadDigits, useDigitsCache } from "@propius/edge-runtime/demo";
import { fileDigitsCache } from "@propius/node-client";
import { evaluate, initTraining } from "@propius/edge-runtime/training";
import type { JobSpecInput, JobStatus, RoundRecord } from "@propius/shared";

export interface DemoJobOptions {
  rounds: number;
  clients: number;
  roundDeadlineSeconds?: number;
  /** How devices encode their deltas (default fp32). */
  deltaCodec?: "fp32" | "fp16" | "int8";
  /** Devices send only this fraction of their delta's entries, the largest (default: all). */
  deltaTopK?: number;
  /** How the job aggregates, with the strategy's default hyperparameters (default: the demo's, `demoAggregation()`). */
  strategy?: "fedavg" | "fedavgm" | "fedadam" | "fedyogi" | "fedprox" | "fedbuff";
  /** Examples a device must hold to take the job, checked on the device (default 100; 0: any). */
  minExamples?: number;
}

/** The demo job's spec: the MNIST classifier, the demo's plan and aggregation, `clients` devices per round. */
export function demoJobSpec(options: DemoJobOptions): JobSpecInput {
  const model = demoModel();
  return {
    name: `mnist-demo-${options.clients}x${options.rounds}`,
    model: { format: "tfjs-layers", topology: model.topology, weightSpecs: model.weightSpecs },
    plan: {
      ...demoPlan(), rounds: options.rounds, clientsPerRound: options.clients, overCommit: 1,
      minReportFraction: 0.75, roundDeadlineSeconds: options.roundDeadlineSeconds ?? 300, deltaCodec: options.deltaCodec ?? "fp32", deltaTopK: options.deltaTopK,
    },
    aggregation: options.strategy === undefined ? demoAggregation() : { strategy: options.strategy },
    data: { dataset: "mnist", split: "non-iid, two main digits per device" },
    // What devices turn their own files into: 28 x 28 grey levels, one of ten digits.
    input: { kind: "image", width: 28, height: 28, classes: 10 },
    // Checked by each device on its own data (a demo shard holds about 1,000 digits); the count is never sent.
    ...(options.minExamples === 0 ? {} : { privateConstraints: { dataset_size: { min: options.minExamples ?? 100 } } }),
  };
}

/** Keeps the decoded demo digits in `cacheDir` (filling it if empty) for this process and the devices it starts. */
export async function warmDigits(cacheDir: string): Promise<void> {
  useDigitsCache(fileDigitsCache(cacheDir));
  await loadDigits();
}

/** Registers the demo job and seeds its initial model; round 1 opens. */
export async function createDemoJob(owner: OwnerClient, options: DemoJobOptions): Promise<JobStatus> {
  const spec = demoJobSpec(options);
  const created = await owner.createJob(spec);
  return owner.setInitialModel(created, spec, demoModel().initialWeights);
}

export interface RoundProgress {
  round: RoundRecord;
  testAccuracy: number;
  testLoss: number;
}

/**
 * The job owner's side of a run: watches the job, evaluates every new model version on the
 * held-out test set, records the figures on the job, and reports each closed round.
 */
export async function followJob(
  owner: OwnerClient,
  jobId: string,
  onRound: (progress: RoundProgress, status: JobStatus) => void,
  options: { pollMs?: number; signal?: AbortSignal } = {},
): Promise<JobStatus> {
  await initTraining({ prefer: ["wasm"] });
  const test = await demoTestSet();
  const evaluated = new Set<number>();
  for (;;) {
    const status = await owner.status(jobId, options.signal);
    const closed = status.rounds.filter((r) => r.status === "closed" && !evaluated.has(r.round));
    for (const round of closed) {
      const weights = await owner.weights(jobId, round.resultModel!);
      const spec = demoModel();
      const result = await evaluate({ model: { topology: spec.topology, weightSpecs: spec.weightSpecs }, weights, data: test });
      const recorded = await owner.recordMetrics(jobId, round.round, { testAccuracy: result.accuracy, testLoss: result.loss });
      evaluated.add(round.round);
      onRound({ round: recorded, testAccuracy: result.accuracy, testLoss: result.loss }, status);
    }
    if (status.state !== "running" && status.state !== "pending_model" && closed.length === 0) return owner.status(jobId);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
