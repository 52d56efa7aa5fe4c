import { describeInputFormat, jobInputFormat, type InputFormat, type Task } from "@propius/shared";
import { checkFitsJob, type LocalData } from "@propius/edge-runtime/training";
import type { DataSummary, FileBytes } from "../contract.js";
import { examplesOf, summariseFiles } from "./local-files.js";

/** The tab's examples in one job's input format, and what was used, for the page. */
export interface JobExamples {
  data: LocalData;
  format: InputFormat;
  description: string;
}

/** Where a tab's training examples come from: the same data, made to fit each job's input format. */
export interface ExampleSource {
  /** Examples the tab holds (the private `dataset_size` it checks jobs' constraints with). */
  count: number;
  /** The examples in the format of the task's job; throws, saying why, when they cannot fit it. */
  forTask(task: Pick<Task, "jobId" | "input" | "model">): Promise<JobExamples>;
}

/** An error that says which job the tab's data does not fit, and why. */
function doesNotFit(jobId: string, format: InputFormat | undefined, reason: string): Error {
  return new Error(`this tab's data does not fit job ${jobId}${format ? ` (${describeInputFormat(format)})` : ""}: ${reason}`);
}

/**
 * The user's files, kept as given and turned into each job's examples when a task of that job
 * arrives (once per job: a job's format never changes).
 */
export class FileExamples implements ExampleSource {
  /** What the files hold, told before any job's format is known; throws for an empty or mixed set. */
  readonly summary: DataSummary;
  readonly count: number;
  private readonly byJob = new Map<string, Promise<JobExamples>>();

  constructor(private readonly files: readonly FileBytes[]) {
    this.summary = summariseFiles(files);
    this.count = this.summary.examples;
  }

  forTask(task: Pick<Task, "jobId" | "input" | "model">): Promise<JobExamples> {
    let examples = this.byJob.get(task.jobId);
    if (!examples) {
      examples = this.convert(task);
      this.byJob.set(task.jobId, examples);
    }
    return examples;
  }

  private async convert(task: Pick<Task, "jobId" | "input" | "model">): Promise<JobExamples> {
    let format: InputFormat | undefined;
    try {
      format = jobInputFormat(task);
      return { format, ...(await examplesOf(this.files, format)) };
    } catch (error) {
      throw doesNotFit(task.jobId, format, error instanceof Error ? error.message : String(error));
    }
  }
}

/** The demo shard: fixed examples (28 x 28 digits), for jobs whose format is exactly theirs. */
export class DemoExamples implements ExampleSource {
  readonly count: number;

  constructor(
    private readonly data: LocalData,
    private readonly summary: string,
  ) {
    this.count = data.count;
  }

  async forTask(task: Pick<Task, "jobId" | "input" | "model">): Promise<JobExamples> {
    const format = checkFitsJob(task, this.data, "the demo digits");
    return { data: this.data, format, description: `${describeInputFormat(format)}: ${this.summary}` };
  }
}
