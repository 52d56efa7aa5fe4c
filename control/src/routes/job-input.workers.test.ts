import { afterEach, describe, expect, it } from "vitest";
import type { JobStatus } from "@propius/shared";
import { api, cancelRunningJobs, createTenant, expectJson, jobSpec, registerClient, seedModel, taskFor } from "../../test/fixtures.js";

afterEach(cancelRunningJobs);

describe("a job's input format", () => {
  it("is sent to devices with every task when the spec gives it", async () => {
    const { apiKey } = await createTenant();
    // The fixtures' model is one 2 x 2 kernel: two features in, two classes out.
    const input = { kind: "tabular", features: 2, classes: 2, labelColumn: "y" };
    const job = await expectJson<JobStatus>(api("/v1/jobs", { token: apiKey, json: { ...jobSpec({ clientsPerRound: 1 }), input } }), 201);
    await seedModel(apiKey, job.id);
    const device = await registerClient();
    expect((await taskFor(device.token, job.id)).input).toEqual(input);
  });

  it("is refused when it disagrees with the model's first or last layer", async () => {
    const { apiKey } = await createTenant();
    const response = await api("/v1/jobs", { token: apiKey, json: { ...jobSpec(), input: { kind: "image", width: 28, height: 28, channels: 1, classes: 2 } } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: "validation_failed", message: "invalid input: the input has 28 x 28 x 1 = 784 values per example, but the model's first layer takes 2" },
    });
    const classes = await api("/v1/jobs", { token: apiKey, json: { ...jobSpec(), input: { kind: "tabular", features: 2, classes: 5 } } });
    expect(await classes.json()).toMatchObject({ error: { code: "validation_failed", message: "invalid input: the input has 5 classes, but the model's last layer has 2 units" } });
  });
});
