import { describeInputFormat, jobInputFormat, type InputFormat, type Task } from "@propius/shared";
import { checkFitsJob } from "./fits-job.js";
import type { LocalData } from "./local-data.js";
import { TaskFailureError } from "../task-failure.js";

/** A device's examples in one job's input format, and what was used, for people. */
export interface JobExamples {
  data: LocalData;
  format: InputFormat;
  description: string;
}

/** The part of a task that says what its job's examples look like. */
export type TaskInput = Pick<Task, "jobId" | "input" | "model">;

/** Where a device's training examples come from: the same data, made to fit each job's input format. */
export interface ExampleSource {
  /** Examples the device holds (the private `dataset_size` it checks jobs' constraints with). */
  readonly count: number;
  /** The examples in the format of the task's job; throws, saying why, when they cannot fit it. */
  forTask(task: TaskInput): Promise<JobExamples>;
}

/** What converting the device's own files to one format gives. */
export interface Converted {
  data: LocalData;
  description: string;
}

/** One key per distinct format: jobs of the same format share one conversion. */
export function formatKey(format: InputFormat): string {
  return format.kind === "image"
    ? JSON.stringify(["image", format.width, format.height, format.channels, format.classes, format.labels ?? null])
    : JSON.stringify(["tabular", format.features, format.classes, format.labelColumn]);
}

/**
 * A device's own files, kept as given and turned into a job's examples when a task of that job
 * arrives: once per format (a job's format never changes, and jobs of one format share the
 * result). Errors name the job and its format: `<what> does not fit job <id> (<format>): <why>`.
 */
export class ConvertedExamples implements ExampleSource {
  private readonly byFormat = new Map<string, Promise<Converted>>();

  constructor(
    readonly count: number,
    private readonly what: string,
    private readonly convert: (format: InputFormat) => Promise<Converted>,
  ) {}

  async forTask(task: TaskInput): Promise<JobExamples> {
    let format: InputFormat | undefined;
    try {
      format = jobInputFormat(task);
      const key = formatKey(format);
      let converted = this.byFormat.get(key);
      if (!converted) {
        converted = this.convert(format);
        this.byFormat.set(key, converted);
      }
      const { data, description } = await converted;
      return { data, format, description };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new TaskFailureError("data_mismatch", `${this.what} does not fit job ${task.jobId}${format ? ` (${describeInputFormat(format)})` : ""}: ${reason}`);
    }
  }
}

/** Fixed examples (the demo digits), for jobs whose format is exactly theirs. */
export class FixedExamples implements ExampleSource {
  readonly count: number;

  constructor(
    private readonly data: LocalData,
    private readonly what: string,
    private readonly summary: string,
  ) {
    this.count = data.count;
  }

  async forTask(task: TaskInput): Promise<JobExamples> {
    const format = checkFitsJob(task, this.data, this.what);
    return { data: this.data, format, description: `${describeInputFormat(format)}: ${this.summary}` };
  }
}
