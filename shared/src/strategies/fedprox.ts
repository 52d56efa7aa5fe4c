import type { z } from "zod";
import { fedProxConfigSchema, type FedProxConfig } from "./config.js";
import { fedAvg } from "./fedavg.js";
import { checkSize, checkState, type RoundStrategy } from "./strategy.js";

/** FedProx aggregates as FedAvg does; its state is FedAvg's, under its own name. */
export interface FedProxState {
  strategy: "fedprox";
  steps: number;
}

export type FedProxStrategy = RoundStrategy<FedProxConfig, FedProxState>;

/**
 * FedProx (Li et al., 2020): FedAvg on the server; each client adds the proximal term
 * (mu / 2) * ||w - w_global||^2 to its local loss, which keeps local models near the global one
 * when clients' data differ. `configureTrain` sends mu as `proximalMu`; local training
 * (edge-runtime's `trainLocal`) applies the term as a decoupled step after each optimizer step,
 * w -= learningRate * `proximalGradient` (with mu = 0 it is plain FedAvg).
 */
export function fedProx(options: Omit<z.input<typeof fedProxConfigSchema>, "strategy"> = {}): FedProxStrategy {
  const config = fedProxConfigSchema.parse({ ...options, strategy: "fedprox" });
  const average = fedAvg({ serverLearningRate: config.serverLearningRate });
  return {
    name: "fedprox",
    mode: "rounds",
    config,
    configureTrain: () => ({ proximalMu: config.proximalMu }),
    initialState: () => ({ strategy: "fedprox", steps: 0 }),
    aggregateTrain(global, aggregate, state) {
      checkState("fedprox", state);
      const { next } = average.aggregateTrain(global, aggregate, { strategy: "fedavg", steps: state.steps });
      return { next, state: { strategy: "fedprox", steps: state.steps + 1 } };
    },
  };
}

/**
 * The proximal term's gradient, mu * (w - w_global), for local weights `local` and the global
 * weights the round started from; added to the loss gradient at every local step. Writes into
 * `out` when given, else into a new array.
 */
export function proximalGradient(local: Float32Array, global: Float32Array, mu: number, out?: Float32Array): Float32Array {
  checkProximal(local, global, mu);
  const result = out ?? new Float32Array(local.length);
  checkSize("output", result, local.length);
  for (let i = 0; i < local.length; i++) result[i] = mu * (local[i] - global[i]);
  return result;
}

/** Adds mu * (w - w_global) to `gradient` in place: a local step's gradient with the proximal term. */
export function addProximalGradient(gradient: Float32Array, local: Float32Array, global: Float32Array, mu: number): void {
  checkProximal(local, global, mu);
  checkSize("gradient", gradient, local.length);
  for (let i = 0; i < local.length; i++) gradient[i] += mu * (local[i] - global[i]);
}

/** The proximal term itself, (mu / 2) * ||w - w_global||^2, to report beside the loss. */
export function proximalTerm(local: Float32Array, global: Float32Array, mu: number): number {
  checkProximal(local, global, mu);
  let squares = 0;
  for (let i = 0; i < local.length; i++) {
    const d = local[i] - global[i];
    squares += d * d;
  }
  return (mu / 2) * squares;
}

function checkProximal(local: Float32Array, global: Float32Array, mu: number): void {
  if (!(mu >= 0) || !Number.isFinite(mu)) throw new RangeError("mu must be a finite number, at least 0");
  checkSize("local weights", local, global.length);
}
