import { readFile } from "node:fs/promises";
import type { JobSpecInput, JobStatus } from "@propius/shared";
import type { Command } from "./command.js";
import { CliError, usageError } from "./cli-error.js";
import { jobLine } from "./format.js";
import { readModelFolder, readWeightsFile } from "./model-folder.js";

/**
 * `jobs create`: registers a job from its spec and, given initial weights (a raw float32 file, or
 * a tfjs model folder that is the model too), seeds it, which opens round 1.
 */
export const jobsCreate: Command = {
  path: ["jobs", "create"],
  args: ["<spec.json>"],
  summary: "register a job from its spec, and seed it with its initial weights",
  options: {
    weights: { type: "string", value: "file", help: "initial weights: raw little-endian float32 in the spec's weightSpecs order" },
    model: { type: "string", value: "folder", help: "a tfjs model folder (model.json and its weight files): the job's model and initial weights; spec.json then has no model" },
  },
  details: `Without --weights or --model the job waits in state pending_model for its initial model.
A model folder is what tfjs' model.save("file://<folder>") or a download (propius jobs download)
writes; only float32 weights can seed a job. docs/api.md describes the spec.`,
  async run(context, [specPath], options) {
    if (options.weights !== undefined && options.model !== undefined) throw usageError("jobs create takes --weights or --model, not both");
    const spec = await readSpec(specPath);
    let weights: Float32Array | undefined;
    if (typeof options.model === "string") {
      if (spec.model !== undefined) throw usageError(`${specPath} has a model, and --model gives one: leave the spec's out`);
      const folder = await readModelFolder(options.model);
      spec.model = folder.model;
      weights = folder.weights;
    } else if (typeof options.weights === "string") {
      if (spec.model === undefined) throw new CliError(`${specPath} has no model: give it one, or give a model folder with --model`);
      weights = await readWeightsFile(options.weights, spec.model.weightSpecs);
    }
    const owner = await context.owner();
    const created = await owner.createJob(spec as JobSpecInput);
    let status: JobStatus = created;
    if (weights !== undefined) {
      try {
        status = await owner.setInitialModel(created, spec as JobSpecInput, weights);
      } catch (error) {
        // The job exists: say so, or the owner would create it again.
        if (error instanceof Error) error.message = `${created.id} was created, but its initial model was refused (\`propius jobs seed ${created.id}\` tries again): ${error.message}`;
        throw error;
      }
    }
    context.print(() => (weights === undefined ? `${jobLine(status)}\n\`propius jobs seed ${status.id} --weights <file>\` opens round 1` : jobLine(status)), status);
  },
};

/** `jobs seed`: the initial model of a job created without one, checked against the job's own spec. */
export const jobsSeed: Command = {
  path: ["jobs", "seed"],
  args: ["<id>"],
  summary: "seed a job that waits for its initial model (state pending_model); this opens round 1",
  options: {
    weights: { type: "string", value: "file", help: "raw little-endian float32 in the job's weightSpecs order" },
    model: { type: "string", value: "folder", help: "a tfjs model folder whose weights (and weightSpecs) are the job's" },
  },
  details: "A job takes its initial model once: a seeded job answers model_already_set.",
  async run(context, [id], options) {
    if ((options.weights === undefined) === (options.model === undefined)) throw usageError("jobs seed takes one of --weights or --model");
    const owner = await context.owner();
    const { spec } = await owner.status(id);
    let weights: Float32Array;
    if (typeof options.model === "string") {
      const folder = await readModelFolder(options.model);
      const names = (specs: { name: string; shape: number[] }[]) => JSON.stringify(specs.map((t) => [t.name, t.shape]));
      if (names(folder.model.weightSpecs) !== names(spec.model.weightSpecs)) throw new CliError(`the weights of ${options.model} are not the tensors of ${id}'s weightSpecs (names and shapes, in order)`);
      weights = folder.weights;
    } else {
      weights = await readWeightsFile(options.weights as string, spec.model.weightSpecs);
    }
    const status = await owner.setInitialModel(id, spec, weights);
    context.print(jobLine(status), status);
  },
};

async function readSpec(path: string): Promise<Partial<JobSpecInput> & Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`cannot read the spec ${path}: ${(error as Error).message}`);
  }
  try {
    const spec: unknown = JSON.parse(text);
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("a spec is a JSON object");
    return spec as Partial<JobSpecInput> & Record<string, unknown>;
  } catch (error) {
    throw new CliError(`${path} is not a job spec: ${(error as Error).message}`);
  }
}
