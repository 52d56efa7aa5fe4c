import type { FedAdamConfig, FedYogiConfig } from "./config.js";
import { checkSize, meanDelta, type RoundAggregate, type StepResult } from "./strategy.js";

/** The server state of FedAdam and FedYogi: first and second moments of the mean delta. */
export interface FedOptState<N extends "fedadam" | "fedyogi"> {
  strategy: N;
  steps: number;
  /** First moment m. */
  m: Float32Array;
  /** Second moment v. */
  v: Float32Array;
}

export function initialFedOptState<N extends "fedadam" | "fedyogi">(strategy: N, size: number): FedOptState<N> {
  return { strategy, steps: 0, m: new Float32Array(size), v: new Float32Array(size) };
}

/**
 * One server step of Reddi et al.'s FedOpt family (Algorithm 2) on the round's mean delta d:
 *
 *   m_t = beta1 * m_{t-1} + (1 - beta1) * d
 *   v_t = beta2 * v_{t-1} + (1 - beta2) * d^2                       (Adam)
 *   v_t = v_{t-1} - (1 - beta2) * d^2 * sign(v_{t-1} - d^2)         (Yogi)
 *   w_{t+1} = w_t + eta * m_t / (sqrt(v_t) + tau)
 *
 * with m and v starting at 0, as in Flower (the paper allows any v_{-1} >= tau^2; with 0 the first
 * Yogi step equals the first Adam step). There is no bias correction, as in the paper and Flower's
 * FedYogi; Flower's FedAdam scales eta by sqrt(1 - beta2^(t+1)) / (1 - beta1^(t+1)).
 */
export function fedOptStep<N extends "fedadam" | "fedyogi">(
  rule: N,
  config: FedAdamConfig | FedYogiConfig,
  global: Float32Array,
  aggregate: RoundAggregate,
  state: FedOptState<N>,
): StepResult<FedOptState<N>> {
  const size = global.length;
  checkSize("first moment", state.m, size);
  checkSize("second moment", state.v, size);
  const d = meanDelta(aggregate, size);
  const { beta1, beta2, tau, serverLearningRate: eta } = config;
  const m = new Float32Array(size);
  const v = new Float32Array(size);
  const next = new Float32Array(size);
  const yogi = rule === "fedyogi";
  for (let i = 0; i < size; i++) {
    const di = d[i];
    const d2 = di * di;
    const mi = beta1 * state.m[i] + (1 - beta1) * di;
    const vPrev = state.v[i];
    const vi = yogi ? vPrev - (1 - beta2) * d2 * Math.sign(vPrev - d2) : beta2 * vPrev + (1 - beta2) * d2;
    m[i] = mi;
    v[i] = vi;
    next[i] = global[i] + (eta * mi) / (Math.sqrt(vi) + tau);
  }
  return { next, state: { strategy: rule, steps: state.steps + 1, m, v } };
}
