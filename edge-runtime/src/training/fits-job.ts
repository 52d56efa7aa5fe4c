import { describeInputFormat, inputSize, jobInputFormat, type InputFormat, type Task } from "@propius/shared";
import { featureSize, type LocalData } from "./local-data.js";

/**
 * Whether a device's examples fit a job's input format (the spec's `input`, or what its model's
 * weights say): the same number of values per example and the same classes. Returns the format,
 * or throws, naming the job, its format and the difference, so a device stops instead of
 * uploading an update trained on data of another shape.
 */
export function checkFitsJob(task: Pick<Task, "jobId" | "input" | "model">, data: Pick<LocalData, "featureShape" | "numClasses">, what = "this device"): InputFormat {
  let format: InputFormat;
  try {
    format = jobInputFormat(task);
  } catch (error) {
    throw new Error(`data (${what}) does not fit job ${task.jobId}: ${(error as Error).message}`);
  }
  const values = featureSize(data);
  if (inputSize(format) !== values || format.classes !== data.numClasses) {
    throw new Error(`data of ${values} values and ${data.numClasses} classes per example (${what}) does not fit job ${task.jobId} (${describeInputFormat(format)})`);
  }
  return format;
}
