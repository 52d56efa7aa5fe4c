import { z } from "zod";
import { strictObject } from "../strict-object.js";

/**
 * Most examples one update may claim unless the job says (`robustness.maxExamples`). The claim is
 * FedAvg's weight and comes on the device's word: a larger one is clipped to the cap, so that one
 * device weighs at most as much as this many examples. 10,000 is ten times a demo device's digits
 * and more than a phone's local training set usually holds; raise it for devices with more.
 */
export const DEFAULT_MAX_EXAMPLES = 10_000;

/** A fixed L2 bound: an update whose norm is above `norm` is scaled down to it. */
export const fixedClippingSchema = strictObject({
  mode: z.literal("fixed"),
  norm: z.number({ error: "norm must be a number" }).positive("norm must be positive").max(1e12, "norm must be at most 1e12"),
});

/**
 * An adaptive L2 bound (Andrew et al., 2021, "Differentially private learning with adaptive
 * clipping"; TFF's `clipping_norm` with its quantile estimator): each round the bound moves
 * geometrically towards the `quantile` of the round's update norms,
 * `C <- C x exp(-learningRate x (fraction of updates with norm <= C - quantile))`.
 */
export const adaptiveClippingSchema = strictObject({
  mode: z.literal("adaptive"),
  /** The first round's bound. */
  initialNorm: z.number({ error: "initialNorm must be a number" }).positive("initialNorm must be positive").max(1e12, "initialNorm must be at most 1e12").default(1),
  /** The quantile of the norms the bound tracks (0.5: the median norm). */
  quantile: z.number({ error: "quantile must be a number" }).gt(0, "quantile must be in (0, 1)").lt(1, "quantile must be in (0, 1)").default(0.5),
  /** The geometric step (eta_C); 0.2 as Andrew et al. and TFF's default. */
  learningRate: z.number({ error: "learningRate must be a number" }).positive("learningRate must be positive").max(10, "learningRate must be at most 10").default(0.2),
});

export const clippingSchema = z.discriminatedUnion("mode", [fixedClippingSchema, adaptiveClippingSchema], {
  error: (issue) => (issue.code === "invalid_union" ? 'clipping.mode must be "fixed" or "adaptive"' : undefined),
});

export const ESTIMATORS = ["mean", "median", "trimmedMean", "krum"] as const;
export type EstimatorName = (typeof ESTIMATORS)[number];

/**
 * How a round's updates are combined. `mean`: the weighted mean (the strategy's own, default).
 * The others weigh every update alike and need each update apart (see docs/robust-aggregation.md):
 * `median` coordinate-wise; `trimmedMean` drops the `trim` fraction of lowest and of highest values
 * of each coordinate; `krum` (Blanchard et al., 2017) keeps the `keep` updates nearest their
 * neighbours (multi-Krum with keep > 1; Krum with 1), assuming at most `byzantine` attackers.
 */
export const estimatorSchema = z.discriminatedUnion(
  "kind",
  [
    strictObject({ kind: z.literal("mean") }),
    strictObject({ kind: z.literal("median") }),
    strictObject({ kind: z.literal("trimmedMean"), trim: z.number({ error: "trim must be a number" }).gt(0, "trim must be in (0, 0.5)").lt(0.5, "trim must be in (0, 0.5)").default(0.1) }),
    strictObject({
      kind: z.literal("krum"),
      byzantine: z.number({ error: "byzantine must be a number" }).int("byzantine must be a whole number").min(0, "byzantine must not be negative").max(10_000).default(1),
      /** Updates averaged (multi-Krum); default: all but `byzantine`. */
      keep: z.number({ error: "keep must be a number" }).int("keep must be a whole number").min(1, "keep must be at least 1").max(10_000).optional(),
    }),
  ],
  { error: (issue) => (issue.code === "invalid_union" ? `estimator.kind must be one of ${ESTIMATORS.join(", ")}` : undefined) },
);

/** What the job does against poisoned updates: the weight an update may claim, its norm, the estimator. */
export const robustnessSchema = strictObject({
  maxExamples: z.number({ error: "maxExamples must be a number" }).int("maxExamples must be a whole number").min(1, "maxExamples must be at least 1").max(1e12).default(DEFAULT_MAX_EXAMPLES),
  /** Update norm bounding (none: updates are not clipped). */
  clipping: clippingSchema.optional(),
  estimator: estimatorSchema.default({ kind: "mean" }),
});

export const DEFAULT_ROBUSTNESS = { maxExamples: DEFAULT_MAX_EXAMPLES, estimator: { kind: "mean" as const } };

export type Robustness = z.output<typeof robustnessSchema>;
export type RobustnessInput = z.input<typeof robustnessSchema>;
export type Clipping = z.output<typeof clippingSchema>;
export type Estimator = z.output<typeof estimatorSchema>;

/** Whether the estimator needs every update of the round apart (all but the mean). */
export const keepsUpdates = (estimator: Estimator): boolean => estimator.kind !== "mean";

/** The weight claim an update is folded with: at most the job's cap. */
export const cappedExamples = (claimed: number, robustness: Pick<Robustness, "maxExamples">): number => Math.min(claimed, robustness.maxExamples);

/** A job's defences; a job stored before the spec had them gets the defaults. */
export const robustnessOf = (spec: { robustness?: Robustness }): Robustness => spec.robustness ?? DEFAULT_ROBUSTNESS;
