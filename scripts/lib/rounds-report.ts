import type { DemoModelName } from "./demo-models.js";
import { mean, type RoundSummary, type RoundTiming } from "./round-timings.js";

/** One model's job in the rounds benchmark. */
export interface ModelRun {
  model: DemoModelName;
  /** The acceptance target for the median ratio. */
  target: number;
  jobId: string;
  timings: RoundTiming[];
  summary: RoundSummary;
}

export interface RoundsReportInput {
  date: string;
  machine: string;
  load: { before: number[]; after: number[] };
  command: string;
  clients: number;
  processes: number;
  seed: number;
  deviceArgs: string[];
  runs: ModelRun[];
}

const s = (ms: number | null) => (ms === null ? "-" : (ms / 1000).toFixed(2));
const LABELS: Record<DemoModelName, string> = { mlp: "demo MLP (784-128-10)", cnn: "demo CNN (two Conv2D layers)" };

/** A model's rounds as a Markdown table, then its summary line (round 1 is shown, not counted). */
export function roundsTable(run: ModelRun): string {
  const { summary } = run;
  const met = summary.medianRatio <= run.target;
  return [
    `Job ${run.jobId} (${run.model}):`,
    "",
    "| round | wall (s) | ceiling (s) | ratio | slowest: download / train / upload (s) | longest training (s) | first / last task after open (s) | close after last upload (s) | evaluating first (s) | idle after upload (s) |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...run.timings.map((t) => {
      const { downloadMs, trainMs, uploadMs } = t.slowest;
      const round = `${t.round}${t.round === 1 ? " (not counted)" : ""}${t.attempts > 1 ? `, ${t.attempts} attempts` : ""}`;
      return `| ${round} | ${s(t.wallMs)} | ${s(t.ceilingMs)} | ${t.ratio.toFixed(2)} | ${s(downloadMs)} / ${s(trainMs)} / ${s(uploadMs)} | ${s(t.maxTrainMs)} | ${s(t.firstTaskMs)} / ${s(t.lastTaskMs)} | ${s(t.closeMs)} | ${s(t.evaluatingMs)} | ${s(t.idleGapsMs.length ? mean(t.idleGapsMs) : null)} |`;
    }),
    "",
    `Rounds 2 to ${summary.rounds + 1}: median ratio **${summary.medianRatio.toFixed(2)}**, p90 ${summary.p90Ratio.toFixed(2)}, mean idle time of a device between its upload and its next task ${s(summary.meanIdleMs)} s, median time from the round opening to its last training task ${s(summary.medianLastTaskMs)} s; target at most ${run.target} (${met ? "met" : "not met"}).`,
  ].join("\n");
}

/** The results document: how it was measured, a summary of every model, then each model's rounds. */
export function roundsReport(input: RoundsReportInput): string {
  return [
    "# Round wall time against the slowest device's own work",
    "",
    `Measured by \`${input.command}\` on ${input.date.slice(0, 10)}: ${input.machine}; load average (1, 5, 15 min) ${input.load.before.join(", ")} before the run, ${input.load.after.join(", ")} after (other work was running on the machine).`,
    `The demo job as \`npm start\` runs it (control plane under \`wrangler dev\`, ${input.clients} Node devices in ${input.processes} processes, non-IID MNIST shards, seed ${input.seed}, federated evaluation every round), fresh devices per model${input.deviceArgs.length ? `, every device started with \`${input.deviceArgs.join(" ")}\`` : ", the devices' default options"}.`,
    "",
    "- **wall**: from the round opening to its closing, as the job's round record has them (a retried round from its first attempt); the close comes after aggregation.",
    "- **ceiling**: the slowest reporting device's own work in the round, from its event log (`--event-log`): task received to upload acknowledged, that is download, training and upload: the round cannot close before that work is done.",
    "- **ratio** = wall / ceiling; the rest of the wall time is the server's and the waiting: the first and the last training task after the round opened (a device told to come back later takes its task only then), the close after the last upload (aggregation), and devices evaluating the previous round's model before taking their training task (the mean over the round's devices).",
    "- **idle after upload**: from a device's acknowledged upload to its next task of any kind (mean over the round's devices that got one).",
    "- Devices in one process share its thread (as in `npm start`): a device's download, training, upload or evaluation takes longer while the others of its process train, and that counts in its own work.",
    "- Round 1 is shown but left out of the median and p90: it opens before the devices have started and warmed their caches.",
    "",
    "| model | rounds counted | median ratio | p90 ratio | mean idle after upload (s) | median last task after open (s) | target | met |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...input.runs.map(({ model, summary, target }) => `| ${LABELS[model]} | ${summary.rounds} | ${summary.medianRatio.toFixed(2)} | ${summary.p90Ratio.toFixed(2)} | ${s(summary.meanIdleMs)} | ${s(summary.medianLastTaskMs)} | at most ${target} | ${summary.medianRatio <= target ? "yes" : "no"} |`),
    "",
    ...input.runs.flatMap((run) => [`## ${LABELS[run.model]}`, "", roundsTable(run), ""]),
  ].join("\n");
}
