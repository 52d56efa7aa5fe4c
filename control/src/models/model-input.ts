import { inputFormatSchema, type InputFormat } from "@propius/shared";
import { invalidModel, showShape } from "./model-error.js";

/** What the built model takes and gives, as tfjs' symbolic shapes say (batch axis removed). */
export interface ModelShapes {
  /** One example's shape: `[height, width, channels]` or `[features]`. */
  input: (number | null)[];
  /** One example's output: `[classes]` for a classifier. */
  output: (number | null)[];
  /** The layer that gives the output, for messages: `'output' (Dense)`. */
  lastLayer: string;
}

/**
 * The job's input format: the spec's `input`, checked against the model's input and output
 * shapes, or, when the spec gives none, the one the model's shapes tell (rank 3: an image of that
 * height, width and channels; rank 1: as jobInputFormat does from the weights, a 28 x 28 x 1-style
 * image when the features are a perfect square, else a table). Throws `invalid_model`.
 */
export function checkInput(shapes: ModelShapes, input: InputFormat | undefined): InputFormat {
  const example = fixedShape(shapes.input, "input");
  const classes = outputClasses(shapes);
  if (example.length !== 1 && example.length !== 3) {
    throw invalidModel(`the model takes examples of shape ${showShape(example)}: a job's examples are [height, width, channels] images or [features] rows (give the first layer such a batch_input_shape, with null before it)`, {
      path: "model.topology", expected: "[height, width, channels] or [features]", got: example,
    });
  }
  if (!input) return derived(example, classes);
  if (input.kind === "image") checkImage(example, input);
  else checkTabular(example, input);
  if (input.classes !== classes) {
    throw invalidModel(`input.classes is ${input.classes}, but the model's last layer ${shapes.lastLayer} has ${classes} units: give input.classes ${classes}, or the layer ${input.classes} units`, {
      path: "input.classes", expected: classes, got: input.classes,
    });
  }
  return input;
}

function fixedShape(shape: (number | null)[], what: string): number[] {
  if (shape.some((d) => d === null || d < 1)) {
    throw invalidModel(`the model's ${what} shape ${showShape(shape)} has a dimension of unknown size: give every dimension a size (batch_input_shape [null, ...sizes])`, { path: "model.topology", got: shape });
  }
  return shape as number[];
}

function outputClasses(shapes: ModelShapes): number {
  const output = fixedShape(shapes.output, "output");
  if (output.length !== 1) {
    throw invalidModel(`the model's last layer ${shapes.lastLayer} gives ${showShape(output)} per example: a classifier ends in [classes] (add Flatten and a Dense layer of one unit per class)`, {
      path: "model.topology", expected: "[classes]", got: output,
    });
  }
  if (output[0] < 2) {
    throw invalidModel(`the model's last layer ${shapes.lastLayer} has ${output[0]} unit: a job's examples are of at least 2 classes (one unit per class, softmax)`, { path: "model.topology", expected: "at least 2 units", got: output[0] });
  }
  return output[0];
}

function checkImage(example: number[], input: Extract<InputFormat, { kind: "image" }>): void {
  const values = input.height * input.width * input.channels;
  if (example.length === 1) {
    if (example[0] === values) return;
    throw invalidModel(`input is a ${input.height} x ${input.width} x ${input.channels} image (${values} values), but the model takes ${example[0]} values per example: give an image of ${example[0]} values, or the model an input of ${values}`, {
      path: "input", expected: example, got: [values],
    });
  }
  const fields = ["height", "width", "channels"] as const;
  fields.forEach((field, axis) => {
    if (input[field] === example[axis]) return;
    throw invalidModel(`input.${field} is ${input[field]}, but the model takes images of shape ${showShape(example)} (height, width, channels): give input.${field} ${example[axis]}`, {
      path: `input.${field}`, expected: example[axis], got: input[field],
    });
  });
}

function checkTabular(example: number[], input: Extract<InputFormat, { kind: "tabular" }>): void {
  if (example.length === 3) {
    const [height, width, channels] = example;
    throw invalidModel(`input is tabular, but the model takes images of shape ${showShape(example)}: give input { kind: "image", height: ${height}, width: ${width}, channels: ${channels} }`, {
      path: "input.kind", expected: "image", got: "tabular",
    });
  }
  if (example[0] !== input.features) {
    throw invalidModel(`input.features is ${input.features}, but the model takes ${example[0]} features per example: give input.features ${example[0]}`, {
      path: "input.features", expected: example[0], got: input.features,
    });
  }
}

function derived(example: number[], classes: number): InputFormat {
  let format: unknown;
  if (example.length === 3) format = { kind: "image", height: example[0], width: example[1], channels: example[2], classes };
  else {
    const side = Math.round(Math.sqrt(example[0]));
    format = side * side === example[0] ? { kind: "image", height: side, width: side, channels: 1, classes } : { kind: "tabular", features: example[0], classes };
  }
  const parsed = inputFormatSchema.safeParse(format);
  if (!parsed.success) {
    throw invalidModel(`the spec gives no input, and the model's input shape ${showShape(example)} is no input format a job can have (${parsed.error.issues[0]?.message}): give input`, {
      path: "input", got: example,
    });
  }
  return parsed.data;
}
