import { resolve } from "node:path";
import { JOB_DEVICES_MAX_LIMIT, parameterCount } from "@propius/shared";
import type { Command } from "./command.js";
import { usageError } from "./cli-error.js";
import { deviceList, jobDetails, jobLine, jobList } from "./format.js";
import { writeModelFolder } from "./model-folder.js";

/** The owner's commands on jobs that exist: list, show, list its devices, change demand, cancel, download the model. */

export const jobsList: Command = {
  path: ["jobs", "ls"],
  args: [],
  summary: "list the tenant's jobs, oldest first",
  options: {},
  async run(context) {
    const { jobs } = await (await context.owner()).jobs();
    context.print(() => jobList(jobs), jobs);
  },
};

export const jobsShow: Command = {
  path: ["jobs", "show"],
  args: ["<id>"],
  summary: "a job's state and a row per round: devices, failures, train loss, accuracy, duration",
  options: {},
  details: `fed-acc is the devices' federated evaluation of the round's model, test-acc the owner's own
(POST /v1/jobs/:id/rounds/:round/metrics); failed counts failures and lapsed leases.
--json prints the whole status: the effective spec and every field of each round.`,
  async run(context, [id]) {
    const status = await (await context.owner()).status(id);
    context.print(() => jobDetails(status), status);
  },
};

export const jobsDevices: Command = {
  path: ["jobs", "devices"],
  args: ["<id>"],
  summary: "the devices that took part in a job, the most recently seen first: attributes and contributions",
  options: {
    limit: { type: "string", value: "n", help: `at most n devices (default 100, at most ${JOB_DEVICES_MAX_LIMIT})` },
  },
  details: `A device is named by an anonymous id of its own in this job. attributes are those it reported
when it was last bound; rounds counts the training round attempts it was bound to, updates those of
its updates the job counted (with their examples and bytes), failures the tasks it could not do by
code, evals the federated evaluations it reported.`,
  async run(context, [id], options) {
    const raw = options.limit as string | undefined;
    const limit = raw === undefined ? undefined : Number(raw);
    if (limit !== undefined && (!/^\d+$/.test(raw!) || limit < 1 || limit > JOB_DEVICES_MAX_LIMIT)) {
      throw usageError(`jobs devices --limit takes a whole number from 1 to ${JOB_DEVICES_MAX_LIMIT}; got '${raw}'`);
    }
    const answer = await (await context.owner()).devices(id, { limit });
    context.print(() => deviceList(answer.devices), answer);
  },
};

export const jobsDemand: Command = {
  path: ["jobs", "demand"],
  args: ["<id>", "<n>"],
  summary: "change the devices per round of the rounds that open from now on",
  options: {},
  details: "The round that is open keeps its own demand. A job that has ended answers job_not_running.",
  async run(context, [id, n]) {
    const demand = Number(n);
    if (!Number.isInteger(demand) || demand < 1) throw usageError(`jobs demand takes a whole number of devices, at least 1; got '${n}'`);
    const status = await (await context.owner()).setDemand(id, demand);
    context.print(`${jobLine(status)}\ndemand ${status.spec.plan.clientsPerRound} devices per round from the next round`, status);
  },
};

export const jobsCancel: Command = {
  path: ["jobs", "cancel"],
  args: ["<id>"],
  summary: "cancel a job: its open round ends and no other opens",
  options: {},
  async run(context, [id]) {
    const status = await (await context.owner()).cancel(id);
    context.print(jobLine(status), status);
  },
};

export const jobsDownload: Command = {
  path: ["jobs", "download"],
  args: ["<id>", "<dir>"],
  summary: "write the job's model as a tfjs folder: model.json and weights.bin",
  options: {
    hash: { type: "string", value: "sha256", help: "the model version with this hash (a round's resultModel) rather than the current one" },
  },
  details: `tfjs loads the folder: tf.loadLayersModel("file://<dir>/model.json") with tfjs-node, or from
any URL that serves the folder; propius jobs create --model <dir> starts a job from it.`,
  async run(context, [id, dir], options) {
    const { modelJson, weights } = await (await context.owner()).model(id, options.hash as string | undefined);
    const files = await writeModelFolder(resolve(dir), modelJson, weights);
    const { version, hash } = modelJson.propius;
    const count = parameterCount(modelJson.weightsManifest.flatMap((g) => g.weights));
    context.print(`${id}: model v${version} ${hash.slice(0, 12)} (${count} parameters) written to ${files.modelJson} and ${files.weights}`, { id, version, hash, parameters: count, files });
  },
};
