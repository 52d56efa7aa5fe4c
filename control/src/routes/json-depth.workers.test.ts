import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "@propius/shared";
import { api, createTenant, delta, expectError, jobSpec, jobStatus, registerClient, runningJob, taskFor, uploadDelta } from "../../test/fixtures.js";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
/** A JSON text of `value` with `"@"` replaced by arrays nested `depth` deep. */
const withNesting = (value: unknown, depth: number) => JSON.stringify(value).replace('"@"', nested(depth));

describe("JSON nested deeper than the limit", () => {
  it("is refused as invalid_json on every JSON route before anything reads it, and changes nothing", async () => {
    const { apiKey } = await createTenant();
    const { token } = await registerClient();
    const deep = MAX_JSON_DEPTH + 1;
    await expectError(api("/v1/jobs", { token: apiKey, type: "application/json", body: withNesting({ ...jobSpec(), data: { x: "@" } }, 200_000) }), 400, "invalid_json");
    await expectError(api("/v1/jobs", { token: apiKey, type: "application/json", body: withNesting({ ...jobSpec(), data: { x: "@" } }, deep) }), 400, "invalid_json");
    expect(await (await api("/v1/jobs", { token: apiKey })).json()).toEqual({ jobs: [] });
    await expectError(api("/v1/checkin", { token, type: "application/json", body: withNesting({ attributes: {}, x: "@" }, 100_000) }), 400, "invalid_json");
    await expectError(api("/v1/clients", { type: "application/json", body: withNesting({ attributes: {}, x: "@" }, deep) }), 400, "invalid_json");
    // Within the limit the body reaches its schema as before.
    await expectError(api("/v1/checkin", { token, type: "application/json", body: withNesting({ attributes: "@" }, MAX_JSON_DEPTH - 1) }), 400, "validation_failed");
  });

  it("in a delta's weights header is refused as invalid_update, and the round is unchanged", async () => {
    const { apiKey, job } = await runningJob();
    const { token } = await registerClient();
    const task = await taskFor(token, job.id);
    const body = delta([1, 1, 1, 1], JSON.parse(withNesting({ examples: 1, deep: "@" }, MAX_JSON_DEPTH + 1)));
    const before = await jobStatus(apiKey, job.id);
    await expectError(uploadDelta(token, task, body), 400, "invalid_update");
    expect((await jobStatus(apiKey, job.id)).rounds).toEqual(before.rounds);
  });
});
