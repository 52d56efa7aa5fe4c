import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, ADMIN_KEY, createJob, createTenant, expectJson, testEnv } from "../../test/fixtures.js";
import type { AggregatorObject } from "./aggregator-object.js";

const shard = (jobId: string, index: number) => testEnv.AGGREGATORS.get(testEnv.AGGREGATORS.idFromName(`${jobId}/aggregator-${index}`));
/** The tables of a shard's database (SQLite's and the platform's own, `_cf_...`, left out). */
const tablesOf = (jobId: string, index: number) =>
  runInDurableObject(shard(jobId, index), (_instance: AggregatorObject, state) => state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'").toArray().map((r) => r.name));

/**
 * Acceptance: a shard that is only read stores nothing. The operator's counters for a job reach
 * every aggregator shard of it; a job waiting for its model has shards that never took an update.
 */
describe("an aggregator shard that never took an update", () => {
  it("has no tables after the operator's counters have read it", async () => {
    const { apiKey } = await createTenant();
    const job = await createJob(apiKey);
    await expectJson(api(`/v1/admin/counters?job=${job.id}`, { token: ADMIN_KEY }));
    expect(await tablesOf(job.id, 0)).toEqual([]);
  });
});
