import { OwnerClient } from "@propius/edge-runtime";
import { demoAggregation, demoCnnModel, demoModel, demoPlan, demoTestSet, loadDigits, useDigitsCache, type DemoModel } from "@propius/edge-runtime/demo";
import type { DemoModelName } from "./demo-models.js";
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
  /** Devices evaluate every round's model on their held-out digits (default true). */
  federatedEvaluation?: boolean;
  /** The classifier: the 784-128-10 MLP (default) or the two-conv-layer CNN on 28 x 28 x 1 images. */
  model?: DemoModelName;
  /** Secure aggregation (docs/secure-aggregation.md): the control plane sees only each round's sum of updates (default off). */
  secure?: boolean;
}

/** The demo's models, by name, with what their plan and aggregation change from the MLP's. */
const MODELS: Record<DemoModelName, { model: () => DemoModel; plan: Partial<JobSpecInput["plan"]>; aggregation: () => JobSpecInput["aggregation"] }> = {
  mlp: { model: () => demoModel(), plan: {}, aggregation: demoAggregation },
  // SGD with momentum converges in fewer rounds for the CNN (a fresh momentum buffer each task); plain FedAvg on the server.
  cnn: { model: () => demoCnnModel(), plan: { learningRate: 0.05, localEpochs: 1, optimizer: { name: "momentum", momentum: 0.9 } }, aggregation: () => ({ strategy: "fedavg" }) },
};

/** The demo job's spec: the MNIST classifier, the demo's plan and aggregation, `clients` devices per round. */
export function demoJobSpec(options: DemoJobOptions): JobSpecInput {
  const choice = MODELS[options.model ?? "mlp"];
  const model = choice.model();
  return {
    name: `mnist-${options.model ?? "mlp"}-demo-${options.clients}x${options.rounds}`,
    model: { format: "tfjs-layers", topology: model.topology, weightSpecs: model.weightSpecs },
    plan: {
      ...demoPlan(), rounds: options.rounds, clientsPerRound: options.clients, overCommit: 1,
      minReportFraction: 0.75, roundDeadlineSeconds: options.roundDeadlineSeconds ?? 300, deltaCodec: options.deltaCodec ?? "fp32", deltaTopK: options.deltaTopK,
      // A fiftieth of each shard (about 20 digits, 160 in all) is held out for the federation's evaluation, unless that is off.
      validationSplit: options.federatedEvaluation === false ? 0 : 0.02,
      ...choice.plan,
    },
    aggregation: options.strategy === undefined ? choice.aggregation() : { strategy: options.strategy },
    data: { dataset: "mnist", split: "non-iid, two main digits per device" },
    // Devices evaluate every round's model on the digits they hold out from training (plan.validationSplit).
    ...(options.federatedEvaluation === false ? {} : { evaluation: { everyRounds: 1 } }),
    // What devices turn their own files into: 28 x 28 grey levels, one of ten digits.
    input: { kind: "image", width: 28, height: 28, channels: 1, classes: 10 },
    ...(options.secure ? { secureAggregation: {} } : {}),
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
  return owner.setInitialModel(created, spec, MODELS[options.model ?? "mlp"].model().initialWeights);
}

export interface RoundProgress {
  round: RoundRecord;
  testAccuracy: number;
  testLoss: number;
  /** The devices' example-weighted accuracy on their held-out digits, when the job asks for it. */
  federatedAccuracy: number | null;
}

/**
 * The job owner's side of a run: watches the job, evaluates every new model version on the
 * held-out test set, records the figures on the job, and reports each closed round once the
 * devices' evaluation of it (if any) has closed too.
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
    const closed = status.rounds.filter((r) => r.status === "closed" && !evaluated.has(r.round) && r.evaluation?.status !== "open");
    for (const round of closed) {
      const weights = await owner.weights(jobId, round.resultModel!);
      const result = await evaluate({ model: status.spec.model, weights, data: test });
      const recorded = await owner.recordMetrics(jobId, round.round, { testAccuracy: result.accuracy, testLoss: result.loss });
      evaluated.add(round.round);
      onRound({ round: { ...recorded, evaluation: round.evaluation }, testAccuracy: result.accuracy, testLoss: result.loss, federatedAccuracy: round.evaluation?.accuracy ?? null }, status);
    }
    if (status.state !== "running" && status.state !== "pending_model" && closed.length === 0) return owner.status(jobId);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 1000));
  }
}
