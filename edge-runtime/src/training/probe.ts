import * as tf from "./tf.js";
import { trainingBackends, type BackendRegistry, type InitTrainingOptions } from "./backend.js";

/**
 * Chooses the training backend by measurement: every registered backend trains a small MLP for a
 * few steps and the fastest one that works wins. On real GPUs webgpu or webgl win, on a machine
 * without one wasm does; a fixed list cannot know which.
 */

/** One backend's probe: its training speed, or why it could not be used. */
export interface BackendProbe {
  name: string;
  ok: boolean;
  /** Training throughput on the probe model, when `ok`. */
  samplesPerSecond?: number;
  /** Time the probe took, set-up included. */
  millis: number;
  error?: string;
}

export interface ProbeResult {
  /** The backend now active in tfjs: the fastest that worked. */
  chosen: string;
  /** Every backend tried, in the registry's priority order. */
  probes: BackendProbe[];
}

export interface ProbeOptions extends InitTrainingOptions {
  /** Timed training steps per backend, after one untimed warm-up step (default 8). */
  steps?: number;
  batchSize?: number;
  /** The probe model: inputs -> hidden (relu) -> classes (softmax); default 784 -> 128 -> 10, the demo's. */
  inputs?: number;
  hidden?: number;
  classes?: number;
  /** A backend that takes longer than this (set-up and steps) is given up (default 30 s). */
  timeoutMs?: number;
  /** Backends to probe (default: all registered). */
  only?: string[];
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Trains the probe MLP on random data on the active backend; returns samples per second. */
export async function benchmarkActiveBackend(options: ProbeOptions = {}): Promise<number> {
  const steps = options.steps ?? 8;
  const batch = options.batchSize ?? 32;
  const [inputs, hidden, classes] = [options.inputs ?? 784, options.hidden ?? 128, options.classes ?? 10];
  const model = tf.sequential({
    layers: [tf.layers.dense({ units: hidden, activation: "relu", inputShape: [inputs] }), tf.layers.dense({ units: classes, activation: "softmax" })],
  });
  const optimizer = tf.train.sgd(0.1);
  model.compile({ optimizer, loss: "categoricalCrossentropy" });
  const x = tf.randomUniform([batch, inputs]);
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([batch], 0, classes, "int32") as tf.Tensor1D, classes));
  try {
    await model.trainOnBatch(x, y); // warm-up: shader compilation, kernel set-up
    const started = performance.now();
    for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y); // awaits the loss value: the step is done
    const seconds = (performance.now() - started) / 1000;
    return (steps * batch) / Math.max(seconds, 1e-6);
  } finally {
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }
}

/**
 * Probes every registered backend (see {@link benchmarkActiveBackend}) and activates the fastest
 * that works; the others stay registered as fallbacks for `initTraining`. Throws an
 * AggregateError when none works.
 */
export async function probeBackends(options: ProbeOptions = {}, registry: BackendRegistry = trainingBackends): Promise<ProbeResult> {
  const names = options.only ?? registry.names();
  const probes: BackendProbe[] = [];
  for (const name of names) {
    const started = performance.now();
    try {
      const work = registry.use(name, options).then(() => benchmarkActiveBackend(options));
      const samplesPerSecond = await withTimeout(work, options.timeoutMs ?? 30_000, `the ${name} probe`);
      probes.push({ name, ok: true, samplesPerSecond: Math.round(samplesPerSecond), millis: Math.round(performance.now() - started) });
    } catch (error) {
      probes.push({ name, ok: false, millis: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) });
    }
  }
  const ranked = probes.filter((p) => p.ok).sort((a, b) => b.samplesPerSecond! - a.samplesPerSecond!);
  if (ranked.length === 0) {
    throw new AggregateError(probes.map((p) => new Error(`${p.name}: ${p.error}`)), `no training backend works (probed ${names.join(", ")})`);
  }
  const chosen = await registry.init({ ...options, prefer: ranked.map((p) => p.name) });
  return { chosen, probes };
}
