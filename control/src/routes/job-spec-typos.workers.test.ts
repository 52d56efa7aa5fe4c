import { describe, expect, it } from "vitest";
import type { JobSpecInput } from "@propius/shared";
import { api, createTenant, expectJson, jobSpec } from "../../test/fixtures.js";

type Spec = Record<string, unknown> & JobSpecInput;
const plan = (extra: Record<string, unknown>) => ({ ...jobSpec(), plan: { ...jobSpec().plan, ...extra } });
const withKey = (key: string, value: unknown) => ({ ...jobSpec(), [key]: value });

/**
 * A job spec with a key the schema does not know is refused, at any depth, and the message names
 * the key by its whole path and, where one is close, the key meant. Each case: the spec, and what
 * the message must say.
 */
const typos: Array<[string, () => unknown, string]> = [
  ["a top-level typo", () => withKey("constraint", { ram_gb: { min: 4 } }), "constraint is not a field; did you mean constraints?"],
  ["a top-level key in another case", () => withKey("Priority", 2), "Priority is not a field; did you mean priority?"],
  ["a top-level key far from any", () => withKey("colour", "red"), "colour is not a field (fields: name, model, plan, aggregation"],
  ["private constraints misspelt", () => withKey("privateConstriants", {}), "privateConstriants is not a field; did you mean privateConstraints?"],
  ["estimated rounds misspelt", () => withKey("estimatedRound", 3), "estimatedRound is not a field; did you mean estimatedRounds?"],
  ["plan.batchsize", () => plan({ batchsize: 64 }), "plan.batchsize is not a field; did you mean plan.batchSize?"],
  ["plan.deltacodec", () => plan({ deltacodec: "int8" }), "plan.deltacodec is not a field; did you mean plan.deltaCodec?"],
  ["plan.learningrate", () => plan({ learning_rate: 0.1 }), "plan.learning_rate is not a field; did you mean plan.learningRate?"],
  ["plan.localEpoch", () => plan({ localEpoch: 2 }), "plan.localEpoch is not a field; did you mean plan.localEpochs?"],
  ["plan.clientPerRound", () => plan({ clientPerRound: 2 }), "plan.clientPerRound is not a field; did you mean plan.clientsPerRound?"],
  ["plan.overcommit", () => plan({ overcommit: 1.1 }), "plan.overcommit is not a field; did you mean plan.overCommit?"],
  ["plan.roundDeadline", () => plan({ roundDeadline: 60 }), "plan.roundDeadline is not a field; did you mean plan.roundDeadlineSeconds?"],
  ["plan.validation_split", () => plan({ validationsplit: 0.2 }), "plan.validationsplit is not a field; did you mean plan.validationSplit?"],
  ["plan.suffle", () => plan({ suffle: false }), "plan.suffle is not a field; did you mean plan.shuffle?"],
  ["plan.optimizer's settings", () => plan({ optimizer: { name: "adam", beta_1: 0.8 } }), "plan.optimizer.beta_1 is not a field; did you mean plan.optimizer.beta1?"],
  ["plan.optimizer's momentum under sgd", () => plan({ optimizer: { name: "sgd", momentum: 0.9 } }), "plan.optimizer.momentum is not a field (plan.optimizer takes name)"],
  ["an unknown optimizer", () => plan({ optimizer: "adagrad" }), "optimizer must be one of sgd, momentum, adam"],
  ["aggregation's hyperparameter misspelt", () => withKey("aggregation", { strategy: "fedadam", Beta1: 0.9 }), "aggregation.Beta1 is not a field; did you mean aggregation.beta1?"],
  ["aggregation's key misspelt", () => withKey("aggregation", { strategy: "fedavgm", momentm: 0.5 }), "aggregation.momentm is not a field; did you mean aggregation.momentum?"],
  ["aggregation.weigthing", () => withKey("aggregation", { strategy: "fedavg", weigthing: "uniform" }), "aggregation.weigthing is not a field; did you mean aggregation.weighting?"],
  ["model.weightspecs", () => ({ ...jobSpec(), model: { ...jobSpec().model, weightspecs: [] } }), "model.weightspecs is not a field; did you mean model.weightSpecs?"],
  ["a tensor spec's dtpye", () => ({ ...jobSpec(), model: { ...jobSpec().model, weightSpecs: jobSpec().model.weightSpecs.map((t) => ({ ...t, dtpye: "float32" })) } }), "model.weightSpecs.0.dtpye is not a field; did you mean model.weightSpecs.0.dtype?"],
  ["input.chanels", () => withKey("input", { kind: "tabular", features: 2, classes: 2, labelcolumn: "y" }), "input.labelcolumn is not a field; did you mean input.labelColumn?"],
  ["evaluation.every", () => withKey("evaluation", { every: 2 }), "evaluation.every is not a field; did you mean evaluation.everyRounds?"],
  ["a constraint's bound misspelt", () => withKey("constraints", { ram_gb: { minimum: 4 } }), "constraints.ram_gb.minimum is not a field; did you mean constraints.ram_gb.min?"],
];

describe("a job spec with a key it does not know", () => {
  it.each(typos)("%s: 400 validation_failed naming the key, and nothing is created", async (_name, spec, says) => {
    const { apiKey } = await createTenant();
    const response = await api("/v1/jobs", { token: apiKey, json: spec() as Spec });
    const body = await expectJson<{ error: { code: string; message: string; details: { issues: { path: string }[] } } }>(response, 400);
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.message).toContain(says);
    expect(await expectJson(api("/v1/jobs", { token: apiKey }))).toEqual({ jobs: [] });
  });

  it("refuses a PATCH with a misspelt field, naming the one meant", async () => {
    const { apiKey } = await createTenant();
    const job = await expectJson<{ id: string }>(api("/v1/jobs", { token: apiKey, json: jobSpec() }), 201);
    const body = await expectJson<{ error: { code: string; message: string } }>(api(`/v1/jobs/${job.id}`, { method: "PATCH", token: apiKey, json: { clientsperround: 3 } }), 400);
    expect(body.error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("clientsperround is not a field; did you mean clientsPerRound?") });
  });
});
