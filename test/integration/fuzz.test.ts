import { describe, expect, it } from "vitest";
import { runFuzz } from "../../scripts/lib/fuzz-run.js";
import { fuzzTables } from "../../scripts/lib/fuzz-report.js";
import { TEST_BUILD_DIR } from "./helpers.js";

/**
 * Acceptance, short: `npm run fuzz`'s run (the same generator and checks, scripts/lib/fuzz-run.ts)
 * with 1,500 hostile requests of a fixed seed against the control plane under `wrangler dev`: no
 * 5xx, no connection without an answer, no restart, every canary answered, no hostile request
 * taken, nothing changed or stored by a refused request. workerd's memory is measured and
 * printed but not asserted here: judging it takes a second `wrangler dev` with a one-line Worker
 * sent the same requests (the runtime's own growth, see docs/api.md "The fuzz suite"), which the
 * full `npm run fuzz` runs.
 */
describe("the fuzz suite, short", () => {
  it("1,500 hostile requests over every route and the binary formats leave the control plane up and its state as it was", async () => {
    const result = await runFuzz({ requests: 1_500, seed: 20_261_203, settleMs: 10_000, bundleDir: TEST_BUILD_DIR });
    const summary = fuzzTables(result);
    process.stdout.write(`${summary}\n`);
    expect(result.routes, summary).toBeGreaterThanOrEqual(27);
    expect(Object.keys(result.byRoute).length, summary).toBeGreaterThanOrEqual(result.routes + 1);
    expect(result.verdict.filter((reason) => !reason.startsWith("workerd memory")), summary).toEqual([]);
    expect(result.canaries.sent, summary).toBeGreaterThan(0);
  });
});
