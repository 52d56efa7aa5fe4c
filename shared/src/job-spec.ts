import { z } from "zod";

/** tfjs' weight spec for one tensor (float32 only in protocol v1). */
export const tensorSpecSchema = z.object({
  name: z.string().min(1).max(256),
  shape: z.array(z.number().int().positive().max(2 ** 31 - 1)).max(8),
  dtype: z.literal("float32"),
});

export const modelDefinitionSchema = z.object({
  format: z.literal("tfjs-layers"),
  /** The layers model topology, as `model.toJSON()` (or model.json's `modelTopology`) gives it. */
  topology: z.record(z.string(), z.unknown()),
  /** Tensors of the weight buffer, in order, as in tfjs' `weightSpecs`. */
  weightSpecs: z.array(tensorSpecSchema).min(1).max(4096),
});

export const trainingPlanSchema = z
  .object({
    rounds: z.number().int().min(1).max(100_000),
    /** Demand: updates that close a round. */
    clientsPerRound: z.number().int().min(1).max(100_000),
    /** Extra bindings beyond demand, as a factor (1.3 binds 30 % more devices than needed). */
    overCommit: z.number().min(1).max(10).default(1.3),
    /** A round closes at its deadline if at least this fraction of its demand reported. */
    minReportFraction: z.number().gt(0).max(1).default(0.8),
    /** Seconds a round may stay open before its deadline fires. */
    roundDeadlineSeconds: z.number().int().min(1).max(86_400).default(120),
    localEpochs: z.number().int().min(1).max(1000).optional(),
    localSteps: z.number().int().min(1).max(1_000_000).optional(),
    batchSize: z.number().int().min(1).max(65_536).default(32),
    learningRate: z.number().positive().max(100).default(0.05),
    optimizer: z.enum(["sgd", "adam"]).default("sgd"),
    loss: z.enum(["categoricalCrossentropy", "sparseCategoricalCrossentropy", "meanSquaredError"]).default("categoricalCrossentropy"),
  })
  .refine((p) => p.localEpochs !== undefined || p.localSteps !== undefined, {
    message: "give localEpochs or localSteps",
    path: ["localEpochs"],
  });

export const aggregationSchema = z
  .object({
    strategy: z.literal("fedavg").default("fedavg"),
    weighting: z.literal("examples").default("examples"),
  })
  .default({ strategy: "fedavg", weighting: "examples" });

export const jobSpecSchema = z.object({
  name: z.string().min(1).max(200),
  model: modelDefinitionSchema,
  plan: trainingPlanSchema,
  aggregation: aggregationSchema,
  /** Free-form description of the input the job expects (for example the demo's dataset name). */
  data: z.record(z.string(), z.unknown()).optional(),
});

export type TensorSpecInput = z.infer<typeof tensorSpecSchema>;
export type ModelDefinition = z.infer<typeof modelDefinitionSchema>;
export type TrainingPlan = z.output<typeof trainingPlanSchema>;
export type JobSpec = z.output<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
