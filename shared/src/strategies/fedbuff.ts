import type { z } from "zod";
import { fedBuffConfigSchema, type FedBuffConfig } from "./config.js";
import { checkSize, checkState, type BufferedStrategy } from "./strategy.js";

/** FedBuff's buffer: the discounted weighted sum of the deltas received since the last step. */
export interface FedBuffState {
  strategy: "fedbuff";
  /** Server steps applied so far: the model version. A client's staleness is `steps` now minus `steps` when its model was issued. */
  steps: number;
  /** Sum of examples_i * s(staleness_i) * delta_i. */
  sum: Float32Array;
  /** Sum of examples_i, not discounted. */
  examples: number;
  /** Updates in the buffer. */
  count: number;
}

export type FedBuffStrategy = BufferedStrategy<FedBuffConfig, FedBuffState>;

/** The staleness discount s(staleness) = (1 + staleness)^-exponent; 1 / sqrt(1 + staleness) by default. */
export function stalenessWeight(staleness: number, exponent: number): number {
  if (!Number.isInteger(staleness) || staleness < 0) throw new RangeError("staleness must be a whole number, at least 0");
  return Math.pow(1 + staleness, -exponent);
}

/**
 * FedBuff (Nguyen et al., 2022): asynchronous aggregation without rounds. Clients train on
 * whatever model is current and report whenever they finish; each update goes into a buffer,
 * discounted by its staleness, and every `bufferSize` (K) updates the server takes one step:
 *
 *   w <- w + serverLearningRate * sum_i(n_i * s(staleness_i) * delta_i) / sum_i(n_i)
 *
 * with n_i the client's examples and s(staleness) = 1 / sqrt(1 + staleness), the paper's choice.
 * With equal example counts this is the paper's sum_i(s_i * delta_i) / K. The discount is left out
 * of the denominator on purpose: stale updates move the model less, rather than only less than
 * their fresh peers; with every update fresh the step is FedAvg's over the buffer.
 */
export function fedBuff(options: Omit<z.input<typeof fedBuffConfigSchema>, "strategy"> = {}): FedBuffStrategy {
  const config = fedBuffConfigSchema.parse({ ...options, strategy: "fedbuff" });
  const { bufferSize, stalenessExponent, serverLearningRate: eta } = config;
  const empty = (size: number, steps: number): FedBuffState => ({ strategy: "fedbuff", steps, sum: new Float32Array(size), examples: 0, count: 0 });
  return {
    name: "fedbuff",
    mode: "buffered",
    config,
    configureTrain: () => ({}),
    initialState: (size) => empty(size, 0),
    add(state, { delta, examples, staleness }) {
      checkState("fedbuff", state);
      checkSize("delta", delta, state.sum.length);
      if (!(examples > 0) || !Number.isFinite(examples)) throw new RangeError("examples must be a positive finite number");
      const weight = examples * stalenessWeight(staleness, stalenessExponent);
      const s = state.sum;
      for (let i = 0; i < s.length; i++) s[i] += weight * delta[i];
      state.examples += examples;
      state.count += 1;
      return state;
    },
    isReady: (state) => state.count >= bufferSize,
    apply(global, state) {
      checkState("fedbuff", state);
      checkSize("buffer", state.sum, global.length);
      if (state.count === 0) throw new RangeError("the buffer holds no updates to apply");
      const scale = eta / state.examples;
      const next = new Float32Array(global.length);
      for (let i = 0; i < next.length; i++) next[i] = global[i] + scale * state.sum[i];
      return { next, state: empty(global.length, state.steps + 1) };
    },
  };
}
