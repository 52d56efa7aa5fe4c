import { ConvertedExamples, FixedExamples, type LocalData } from "@propius/edge-runtime/training";
import type { DataSummary, FileBytes } from "../contract.js";
import { examplesOf, summariseFiles } from "./local-files.js";

export type { ExampleSource, JobExamples } from "@propius/edge-runtime/training";

/**
 * The user's files, kept as given and turned into each job's examples when a task of that job
 * arrives (once per format, as the Node device does with its data folder).
 */
export class FileExamples extends ConvertedExamples {
  /** What the files hold, told before any job's format is known; throws for an empty or mixed set. */
  readonly summary: DataSummary;

  constructor(files: readonly FileBytes[]) {
    const summary = summariseFiles(files);
    super(summary.examples, "this tab's data", (format) => examplesOf(files, format));
    this.summary = summary;
  }
}

/** The demo shard: fixed examples (28 x 28 digits), for jobs whose format is exactly theirs. */
export class DemoExamples extends FixedExamples {
  constructor(data: LocalData, summary: string) {
    super(data, "the demo digits", summary);
  }
}
