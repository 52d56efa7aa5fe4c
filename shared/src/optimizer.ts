import { z } from "zod";
import { strictObject } from "./strict-object.js";

/**
 * The local optimizer a device trains with, by name with its settings. A device builds a fresh
 * optimizer for every task: momentum buffers and Adam's moments start at zero each round and are
 * never uploaded, so the server's strategy (FedAvgM, FedAdam, ...) is what carries state across
 * rounds. The learning rate is the plan's `learningRate`.
 *
 * Defaults: momentum 0.9 (the usual heavy-ball value); Adam's beta1 0.9, beta2 0.999 and epsilon
 * 1e-7, as tfjs' and Keras' `adam`.
 */
const unit = (name: string, fallback: number) =>
  z.number({ error: `${name} must be a number` }).min(0, `${name} must be in [0, 1)`).lt(1, `${name} must be in [0, 1)`).default(fallback);

export const sgdOptimizerSchema = strictObject({ name: z.literal("sgd") });

export const momentumOptimizerSchema = strictObject({
  name: z.literal("momentum"),
  momentum: unit("momentum", 0.9),
  nesterov: z.boolean().default(false),
});

export const adamOptimizerSchema = strictObject({
  name: z.literal("adam"),
  beta1: unit("beta1", 0.9),
  beta2: unit("beta2", 0.999),
  epsilon: z.number().positive("epsilon must be positive").max(1, "epsilon must be at most 1").default(1e-7),
});

export const OPTIMIZER_NAMES = ["sgd", "momentum", "adam"] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

const optimizerObjectSchema = z.discriminatedUnion("name", [sgdOptimizerSchema, momentumOptimizerSchema, adamOptimizerSchema], {
  error: (issue) => (issue.code === "invalid_union" ? `optimizer must be one of ${OPTIMIZER_NAMES.join(", ")}, by name or as { "name": ..., settings }` : undefined),
});

/** A name alone (`"adam"`) stands for that optimizer with its default settings. */
export const optimizerSchema = z
  .preprocess((value) => (typeof value === "string" ? { name: value } : value), optimizerObjectSchema)
  .default({ name: "sgd" });

export type OptimizerConfig = z.output<typeof optimizerObjectSchema>;
/** What a caller may give: a name or a (partial) configuration. */
export type OptimizerInput = OptimizerName | z.input<typeof optimizerObjectSchema>;

/** The whole configuration of an optimizer given by name or in part. */
export function optimizerConfig(input: OptimizerInput | OptimizerConfig): OptimizerConfig {
  return optimizerObjectSchema.parse(typeof input === "string" ? { name: input } : input);
}
