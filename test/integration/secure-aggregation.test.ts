import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICES, benchJobSpec, startBenchPlane, type BenchPlane } from "../../scripts/lib/demo-bench-jobs.js";

/**
 * The demo MLP with secure aggregation on, under `wrangler dev`, trained by 8 devices on the
 * production task loop (as `npm run bench:secure` runs it, shorter): every round closes on its
 * group's sum, and the model learns.
 */
describe("secure aggregation of the demo under wrangler dev", () => {
  let plane: BenchPlane;
  beforeAll(async () => {
    plane = await startBenchPlane(1);
  });
  afterAll(async () => plane?.stop());

  it("closes every round on the sum of its 8 devices' masked updates, and the model learns", async () => {
    const sent: number[] = [];
    const run = await plane.run(benchJobSpec("secure-it", 2, { secureAggregation: {} }), { onLoopEvent: (_d, event) => event.type === "uploaded" && sent.push(event.bytes) });
    expect(run.state).toBe("done");
    expect(run.closed.map((r) => r.reported)).toEqual([DEVICES, DEVICES]);
    expect(run.accuracy).toBeGreaterThan(plane.initialAccuracy + 0.3);
    // Each device sent its masked input (4 bytes for each of 101,770 parameters and the weight) and the protocol's keys and shares.
    expect(sent).toHaveLength(2 * DEVICES);
    for (const bytes of sent) expect(bytes).toBeGreaterThan(4 * 101_771);
    for (const bytes of sent) expect(bytes).toBeLessThan(4 * 101_771 + 8_192);
  });
});
