import { z } from "zod";
import { inputFormatSchema, inputMismatch } from "./input-format.js";
import { strategyConfigSchema } from "./strategies/config.js";
import { strictObject } from "./strict-object.js";
import { optimizerSchema } from "./optimizer.js";
import { DEFAULT_ROBUSTNESS, keepsUpdates, robustnessSchema } from "./robust/robustness.js";
import { MIN_SECURE_GROUP, secureAggregationSchema } from "./secagg/secure-spec.js";
import { countNoiseOf, privacySchema, sumNoiseMultiplier } from "./privacy/privacy.js";

/** tfjs' weight spec for one tensor (float32 only in protocol v1). */
export const tensorSpecSchema = strictObject({
  name: z.string().min(1).max(256),
  shape: z.array(z.number().int().positive().max(2 ** 31 - 1)).max(8),
  dtype: z.literal("float32"),
});

export const modelDefinitionSchema = strictObject({
  format: z.literal("tfjs-layers"),
  /** The layers model topology, as `model.toJSON()` (or model.json's `modelTopology`) gives it. */
  topology: z.record(z.string(), z.unknown()),
  /** Tensors of the weight buffer, in order, as in tfjs' `weightSpecs`. */
  weightSpecs: z.array(tensorSpecSchema).min(1).max(4096),
});

export const trainingPlanSchema = strictObject({
  rounds: z.number().int().min(1).max(100_000),
  /** Demand: updates that close a round. */
  clientsPerRound: z.number().int().min(1).max(100_000),
  /** Extra bindings beyond demand, as a factor (1.3 binds 30 % more devices than needed). */
  overCommit: z.number().min(1).max(10).default(1.3),
  /** A round closes at its deadline if at least this fraction of its demand reported. */
  minReportFraction: z.number().gt(0).max(1).default(0.8),
  /** Seconds a round may stay open before its deadline fires (the report deadline). */
  roundDeadlineSeconds: z.number().int().min(1).max(86_400).default(120),
  /**
   * What a round that cannot fill does (docs/scheduling.md, "Scarcity"): after `shrinkAfterAttempts`
   * failed attempts each further attempt asks for half the devices of the one before, down to
   * `minClientsPerRound` (with `keepShrunkDemand`, the job's demand is lowered to what such a round
   * closed with); a job that closes no round for `failAfterSeconds` fails, saying why.
   * None of it by default: a round asks for its demand until it gets it.
   */
  scarcity: strictObject({
    shrinkAfterAttempts: z.number().int().min(1).max(1_000).optional(),
    minClientsPerRound: z.number().int().min(1).max(100_000).optional(),
    keepShrunkDemand: z.boolean().optional(),
    failAfterSeconds: z.number().int().min(60).max(30 * 86_400).optional(),
  }).optional(),
  /** Seconds after a round opens during which it binds devices (default: until its deadline). */
  selectionTimeoutSeconds: z.number().int().min(1).max(86_400).optional(),
  /** Seconds a bound device has to report; then its slot is free for another (default: until the deadline). */
  leaseSeconds: z.number().int().min(1).max(86_400).optional(),
  /** How devices encode their deltas: fp32, fp16 or int8 (per-tensor scale); see docs/wire-format.md. */
  deltaCodec: z.enum(["fp32", "fp16", "int8"]).default("fp32"),
  /** Send only this fraction of the delta's entries, those of largest magnitude (top-k); default: all. */
  deltaTopK: z.number().gt(0).lt(1).optional(),
  localEpochs: z.number().int().min(1).max(1000).optional(),
  localSteps: z.number().int().min(1).max(1_000_000).optional(),
  /** Aggregator shards that fold the job's updates, device to shard by hash (default: from the devices per round). */
  aggregatorShards: z.number().int().min(1).max(64).optional(),
  batchSize: z.number().int().min(1).max(65_536).default(32),
  learningRate: z.number().positive().max(100).default(0.05),
  /** The local optimizer: "sgd", "momentum" or "adam", or an object with its settings (see optimizer.ts). */
  optimizer: optimizerSchema,
  loss: z.enum(["categoricalCrossentropy", "sparseCategoricalCrossentropy", "meanSquaredError"]).default("categoricalCrossentropy"),
  /** Visit the local examples in a fresh random order every pass (default true); false: in the device's order. */
  shuffle: z.boolean().default(true),
  /**
   * Fraction of each device's examples held out from training: the data it evaluates the job's
   * model on when the job asks for federated evaluation (default 0.1 then, else 0).
   */
  validationSplit: z.number().min(0).max(0.5).optional(),
})
  .refine((p) => p.localEpochs !== undefined || p.localSteps !== undefined, {
    message: "give localEpochs or localSteps",
    path: ["localEpochs"],
  });

/**
 * How a job turns a round's updates into the next model: a strategy, its hyperparameters and the
 * updates' weighting (see strategies/config.ts).
 */
export const aggregationSchema = strategyConfigSchema.default({ strategy: "fedavg", serverLearningRate: 1, weighting: "examples" });

/** A device attribute value: numbers, short strings and booleans, as devices report them. */
const attributeValueSchema = z.union([z.number().finite(), z.string().max(128), z.boolean()]);

/**
 * A constraint on one device attribute: inclusive numeric bounds (`min`, `max`, at least one), or
 * membership in a set of allowed values (`in`) for categorical attributes. A device that lacks the
 * attribute does not meet the constraint.
 */
export const attributeConstraintSchema = z.union([
  strictObject({ min: z.number().finite().optional(), max: z.number().finite().optional() })
    .refine((c) => c.min !== undefined || c.max !== undefined, { message: "give min, max or both" })
    .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: "min must not exceed max" }),
  strictObject({ in: z.array(attributeValueSchema).min(1).max(256) }),
]);

/** Constraints by attribute name; a device must meet all of them. */
export const constraintsSchema = z
  .record(z.string().min(1).max(64), attributeConstraintSchema)
  .refine((c) => Object.keys(c).length <= 64, { message: "at most 64 constrained attributes" });

/**
 * Federated evaluation (Flower's configure_evaluate / aggregate_evaluate): after every
 * `everyRounds`-th round, and after the last, devices evaluate the new model on the examples they
 * hold out from training (`plan.validationSplit`) and the job records the example-weighted
 * accuracy and loss in the round's history.
 */
export const evaluationSchema = strictObject({
  everyRounds: z.number().int().min(1).max(100_000).default(1),
  /** Devices that evaluate each time (default: the plan's clientsPerRound). */
  clients: z.number().int().min(1).max(100_000).optional(),
  /** Seconds an evaluation waits for its devices before it closes with the reports it has (default 60). */
  deadlineSeconds: z.number().int().min(1).max(86_400).default(60),
});

const jobSpecSchemaBase = strictObject({
  name: z.string().min(1).max(200),
  model: modelDefinitionSchema,
  plan: trainingPlanSchema,
  aggregation: aggregationSchema,
  /**
   * Defences against poisoned updates (docs/robust-aggregation.md): the most examples an update may
   * claim (default 10,000), update norm bounding (fixed or adaptive), and the estimator (default the mean).
   */
  robustness: robustnessSchema.default(DEFAULT_ROBUSTNESS),
  /** Central differential privacy: Gaussian noise on each round's sum of clipped updates, and epsilon reported per round (none: off). */
  privacy: privacySchema.optional(),
  /** Secure aggregation (docs/secure-aggregation.md): the control plane sees only the sum of each shard's updates in a round (none: off). */
  secureAggregation: secureAggregationSchema.optional(),
  /** Free-form description of the input the job expects (for example the demo's dataset name). */
  data: z.record(z.string(), z.unknown()).optional(),
  /** The examples' format (image or tabular), so that devices can turn their own files into them; checked against the model. */
  input: inputFormatSchema.optional(),
  /** Public constraints, checked by the scheduler on the attributes a device reports (none: any device). */
  constraints: constraintsSchema.optional(),
  /** Private constraints, sent to devices and checked there on data that never leaves them (none: any device). */
  privateConstraints: constraintsSchema.optional(),
  /** Relative weight in the scheduler's ordering; a job of priority 2 counts its remaining work as half (default 1). */
  priority: z.number().positive().max(1000).optional(),
  /** The owner's estimate of the rounds the job will run, when `plan.rounds` is only an upper bound; the scheduler uses it for remaining work. */
  estimatedRounds: z.number().int().min(1).max(100_000).optional(),
  /** Federated evaluation of the model by the devices (none: only what the owner posts). */
  evaluation: evaluationSchema.optional(),
  /**
   * Who may read the job's model versions by hash (`GET /v1/models/:hash`): `enrolled` (default),
   * any enrolled device and any tenant; `bound`, only the devices the job has bound and its own tenant.
   */
  modelAccess: z.enum(["enrolled", "bound"]).optional(),
  /**
   * Which devices the job binds: `open` (default), any enrolled device that meets its constraints;
   * `token`, only devices enrolled with an enrolment token of its tenant or of this job.
   */
  enrolment: z.enum(["open", "token"]).optional(),
});

export const jobSpecSchema = jobSpecSchemaBase
  .superRefine((spec, context) => {
    const mismatch = spec.input && inputMismatch(spec.input, spec.model.weightSpecs);
    if (mismatch) context.addIssue({ code: "custom", path: ["input"], message: mismatch });
    if (keepsUpdates(spec.robustness.estimator) && spec.aggregation.strategy === "fedbuff") {
      context.addIssue({ code: "custom", path: ["robustness", "estimator"], message: `the ${spec.robustness.estimator.kind} estimator needs synchronous rounds: use it with a round strategy, not fedbuff` });
    }
    if (keepsUpdates(spec.robustness.estimator) && spec.plan.deltaTopK !== undefined) {
      context.addIssue({ code: "custom", path: ["robustness", "estimator"], message: `the ${spec.robustness.estimator.kind} estimator needs whole deltas: leave plan.deltaTopK out` });
    }
    if (spec.privacy) privacyIssues(spec).forEach((message) => context.addIssue({ code: "custom", path: ["privacy"], message }));
    if (spec.secureAggregation) secureIssues(spec).forEach((message) => context.addIssue({ code: "custom", path: ["secureAggregation"], message }));
    if (spec.evaluation && spec.plan.validationSplit === 0) {
      context.addIssue({ code: "custom", path: ["plan", "validationSplit"], message: "federated evaluation needs held-out examples: give plan.validationSplit above 0, or leave it out (0.1)" });
    }
  });

/** Why a spec's `secureAggregation` cannot hold: the shard sees only a group's sum, so nothing that needs one update, and a group of at least three. */
function secureIssues(spec: z.output<typeof jobSpecSchemaBase>): string[] {
  const issues: string[] = [];
  if (spec.aggregation.strategy === "fedbuff") issues.push("secure aggregation sums a round's updates at once: use a round strategy, not fedbuff");
  if (spec.robustness.estimator.kind !== "mean") issues.push(`the ${spec.robustness.estimator.kind} estimator needs each update apart, which secure aggregation hides: leave robustness.estimator out`);
  if (spec.robustness.clipping?.mode === "adaptive") issues.push("an adaptive norm bound needs each update's norm, which secure aggregation hides: use a fixed bound (devices clip to it)");
  if (spec.privacy) issues.push("central differential privacy is not offered with secure aggregation yet: leave privacy out");
  if (spec.plan.deltaTopK !== undefined) issues.push("secure aggregation masks whole deltas: leave plan.deltaTopK out");
  if (spec.plan.clientsPerRound < MIN_SECURE_GROUP) issues.push(`secure aggregation needs at least ${MIN_SECURE_GROUP} devices a round: with two, each would learn the other's update from the sum`);
  return issues;
}

/** Why a spec's `privacy` cannot hold: DP needs every update's share of the sum bounded, so a norm bound, weights alike and the mean. */
function privacyIssues(spec: z.output<typeof jobSpecSchemaBase>): string[] {
  const issues: string[] = [];
  const clipping = spec.robustness.clipping;
  if (!clipping) issues.push("central differential privacy needs a norm bound: give robustness.clipping");
  if (spec.aggregation.weighting !== "uniform") issues.push('central differential privacy needs updates weighed alike: give aggregation.weighting "uniform"');
  if (spec.aggregation.strategy === "fedbuff") issues.push("central differential privacy needs synchronous rounds: not fedbuff");
  if (spec.robustness.estimator.kind !== "mean") issues.push("central differential privacy adds its noise to the mean: leave robustness.estimator out");
  if (spec.privacy && clipping?.mode === "adaptive") {
    const stddev = countNoiseOf(spec.privacy, spec.plan.clientsPerRound);
    if (sumNoiseMultiplier(spec.privacy.noiseMultiplier, stddev) === null) {
      issues.push(`with an adaptive bound the count's noise must exceed half the noise multiplier: countNoiseStddev ${stddev} <= ${spec.privacy.noiseMultiplier / 2}; raise privacy.countNoiseStddev or use a fixed bound`);
    }
  }
  return issues;
}

export type TensorSpecInput = z.infer<typeof tensorSpecSchema>;
export type ModelDefinition = z.infer<typeof modelDefinitionSchema>;
export type TrainingPlan = z.output<typeof trainingPlanSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type AttributeValue = z.output<typeof attributeValueSchema>;
export type AttributeConstraint = z.output<typeof attributeConstraintSchema>;
export type Constraints = z.output<typeof constraintsSchema>;
export type EvaluationPlan = z.output<typeof evaluationSchema>;

/** The fraction of their examples devices hold out for federated evaluation unless the plan says. */
export const DEFAULT_VALIDATION_SPLIT = 0.1;

/**
 * The spec as the job runs it: the defaults that depend on other fields filled in (the held-out
 * fraction, the devices per evaluation), so that an owner sees every value that applies.
 */
export function withDerivedDefaults(spec: JobSpec): JobSpec {
  const validationSplit = spec.plan.validationSplit ?? (spec.evaluation ? DEFAULT_VALIDATION_SPLIT : 0);
  return {
    ...spec,
    plan: { ...spec.plan, validationSplit },
    ...(spec.evaluation ? { evaluation: { ...spec.evaluation, clients: spec.evaluation.clients ?? spec.plan.clientsPerRound } } : {}),
  };
}

/** The defaults of the optional scheduling fields of a job spec. */
export const DEFAULT_PRIORITY = 1;

/** What an owner may change while a job runs; it applies from the next round on. */
export const jobUpdateSchema = strictObject({
  clientsPerRound: z.number().int().min(1).max(100_000),
});
export type JobUpdate = z.output<typeof jobUpdateSchema>;
