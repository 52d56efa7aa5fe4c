import { describeInputFormat, exampleShape, inputSize, jobInputFormat, type InputFormat, type Task } from "@propius/shared";
import { featureSize, type LocalData } from "./local-data.js";
import { TaskFailureError } from "../task-failure.js";

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Whether a device's examples fit a job's input format (the spec's `input`, or what its model's
 * weights say): the same number of values per example (an image's height x width x channels) and
 * the same classes; examples laid out in more than one dimension must have the format's own shape
 * (`[height, width, channels]`), since the same count in another layout would mix pixels up.
 * Returns the format, or throws a `data_mismatch` failure naming the job, its format and the
 * difference, which the device reports instead of uploading an update trained on data of another shape.
 */
export function checkFitsJob(task: Pick<Task, "jobId" | "input" | "model">, data: Pick<LocalData, "featureShape" | "numClasses">, what = "this device"): InputFormat {
  let format: InputFormat;
  try {
    format = jobInputFormat(task);
  } catch (error) {
    throw new TaskFailureError("data_mismatch", `data (${what}) does not fit job ${task.jobId}: ${(error as Error).message}`);
  }
  const values = featureSize(data);
  const shape = exampleShape(format);
  const laidOut = data.featureShape.length > 1 && !sameShape(data.featureShape, shape);
  if (inputSize(format) !== values || format.classes !== data.numClasses || laidOut) {
    const of = data.featureShape.length > 1 ? `[${data.featureShape.join(", ")}] = ${values} values` : `${values} values`;
    throw new TaskFailureError(
      "data_mismatch",
      `data of ${of} and ${data.numClasses} classes per example (${what}) does not fit job ${task.jobId} (${describeInputFormat(format)}: [${shape.join(", ")}] = ${inputSize(format)} values)`,
    );
  }
  return format;
}
