import type { RobustnessInput } from "@propius/shared";

/** One defence of the poisoning benchmark: a label and the job's `robustness`. */
export interface Defence {
  name: string;
  label: string;
  robustness: RobustnessInput;
}

/**
 * The defences the benchmark compares, for `attackers` malicious devices of `devices`:
 * `fixedNorm` is the fixed bound (the median honest norm of the no-attacker run).
 */
export function defences(attackers: number, devices: number, fixedNorm: number): Defence[] {
  return [
    { name: "none", label: "none (FedAvg, no cap)", robustness: { maxExamples: 1e12 } },
    { name: "cap", label: "examples cap (10,000, the default)", robustness: {} },
    { name: "cap-1000", label: "examples cap 1,000", robustness: { maxExamples: 1000 } },
    { name: "norm-fixed", label: `norm bound, fixed (${fixedNorm.toFixed(3)})`, robustness: { clipping: { mode: "fixed", norm: fixedNorm } } },
    { name: "norm-adaptive", label: "norm bound, adaptive (median norm; from 1, step 1)", robustness: { clipping: { mode: "adaptive", initialNorm: 1, quantile: 0.5, learningRate: 1 } } },
    { name: "cap-1000-norm-adaptive", label: "examples cap 1,000 + adaptive norm bound", robustness: { maxExamples: 1000, clipping: { mode: "adaptive", initialNorm: 1, quantile: 0.5, learningRate: 1 } } },
    { name: "median", label: "coordinate-wise median", robustness: { estimator: { kind: "median" } } },
    // Drops `attackers` values at each end of every coordinate (trim x devices, rounded down).
    { name: "trimmed-mean", label: `trimmed mean (trim ${((attackers + 0.5) / devices).toFixed(3)})`, robustness: { estimator: { kind: "trimmedMean", trim: (attackers + 0.5) / devices } } },
    { name: "multi-krum", label: `multi-Krum (f = ${attackers}, keep ${devices - attackers})`, robustness: { estimator: { kind: "krum", byzantine: attackers, keep: devices - attackers } } },
  ];
}
