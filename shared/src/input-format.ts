import { z } from "zod";
import { strictObject } from "./strict-object.js";

const size = z.number().int().min(1).max(65_536);
const classes = z.number().int().min(2).max(100_000);

/**
 * Images of `height` x `width` pixels of `channels` values in [0, 1] (1: grey levels, 3: RGB, 4:
 * RGBA), one class each; `labels` name the classes in order. Examples are laid out height, width,
 * channels (tfjs' NHWC).
 */
export const imageInputSchema = strictObject({
  kind: z.literal("image"),
  width: size,
  height: size,
  channels: z.number().int().min(1).max(4).default(1),
  classes,
  labels: z.array(z.string().min(1).max(64)).max(100_000).optional(),
});

/** Rows of `features` numbers and a class index in the column named `labelColumn`. */
export const tabularInputSchema = strictObject({
  kind: z.literal("tabular"),
  features: z.number().int().min(1).max(16_777_216),
  classes,
  labelColumn: z.string().min(1).max(128).default("label"),
});

/** What a job's examples look like, so that a device can turn its own files into them. */
export const inputFormatSchema = z
  .discriminatedUnion("kind", [imageInputSchema, tabularInputSchema], {
    error: (issue) => (issue.code === "invalid_union" ? "input.kind must be image or tabular" : undefined),
  })
  .refine((f) => f.kind !== "image" || f.labels === undefined || f.labels.length === f.classes, { message: "give one label per class", path: ["labels"] })
  .refine((f) => f.kind !== "image" || f.width * f.height * f.channels <= 16_777_216, { message: "an image of at most 16,777,216 values", path: ["width"] });

export type InputFormat = z.output<typeof inputFormatSchema>;
export type InputFormatInput = z.input<typeof inputFormatSchema>;

/** Numbers per example: the image's pixel values or the row's features. */
export function inputSize(format: InputFormat): number {
  return format.kind === "image" ? format.width * format.height * format.channels : format.features;
}

/** The shape of one example: `[height, width, channels]` for an image, `[features]` for a row. */
export function exampleShape(format: InputFormat): number[] {
  return format.kind === "image" ? [format.height, format.width, format.channels] : [format.features];
}

/** A tensor's shape as the model's `weightSpecs` give it. */
interface ShapeOnly {
  shape: number[];
}

/**
 * What a model's weights say about its input and output, where they say it: the first kernel's
 * rows (a dense layer's `[inputs, units]`) and the last bias's length (or the last kernel's units).
 */
export function modelInputOutput(weightSpecs: readonly ShapeOnly[]): { features?: number; classes?: number } {
  const firstKernel = weightSpecs.find((t) => t.shape.length >= 2);
  const last = weightSpecs[weightSpecs.length - 1];
  const classes = last?.shape.length === 1 ? last.shape[0] : last?.shape.length === 2 ? last.shape[1] : undefined;
  return { ...(firstKernel?.shape.length === 2 ? { features: firstKernel.shape[0] } : {}), ...(classes !== undefined ? { classes } : {}) };
}

/** Says how `format` disagrees with the model's weights, or null when it agrees (or they cannot tell). */
export function inputMismatch(format: InputFormat, weightSpecs: readonly ShapeOnly[]): string | null {
  const model = modelInputOutput(weightSpecs);
  const values = inputSize(format);
  const what = format.kind === "image" ? `${format.width} x ${format.height} x ${format.channels} = ${values} values` : `${values} features`;
  if (model.features !== undefined && model.features !== values) return `the input has ${what} per example, but the model's first layer takes ${model.features}`;
  if (model.classes !== undefined && model.classes !== format.classes) return `the input has ${format.classes} classes, but the model's last layer has ${model.classes} units`;
  return null;
}

/** A short description of a format, for people: `image 28 x 28 x 1, 10 classes`. */
export function describeInputFormat(format: InputFormat): string {
  return format.kind === "image"
    ? `image ${format.width} x ${format.height} x ${format.channels}, ${format.classes} classes${format.labels ? ` (${format.labels.join(", ")})` : ""}`
    : `tabular, ${format.features} features, ${format.classes} classes, labels in column '${format.labelColumn}'`;
}

/**
 * A job's input format: the spec's `input` when it gives one, else what the model's weights say
 * (an image when the first layer's inputs are a perfect square, else a table). Throws when neither
 * tells, for example a model whose first layer is not dense and a spec without `input`.
 */
export function jobInputFormat(job: { input?: InputFormat; model: { weightSpecs: readonly ShapeOnly[] } }): InputFormat {
  if (job.input) return job.input;
  const { features, classes } = modelInputOutput(job.model.weightSpecs);
  if (features === undefined || classes === undefined) throw new Error("the job gives no input format and its model's weights do not tell one");
  const side = Math.round(Math.sqrt(features));
  if (side * side === features) return { kind: "image", width: side, height: side, channels: 1, classes };
  return { kind: "tabular", features, classes, labelColumn: "label" };
}
