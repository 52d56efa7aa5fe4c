import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RestartablePlane } from "../../scripts/lib/restartable-plane.js";
import { killScenario } from "../../scripts/lib/fault-kills.js";
import { outageScenario } from "../../scripts/lib/fault-outages.js";
import type { FaultContext } from "../../scripts/lib/fault-scenario.js";
import { ADMIN_KEY, prepareDevices, testWorkerBundle } from "./helpers.js";

// `npm run faults`' scenarios, shortened: the same code, fewer kills and one short outage.
describe("the fault-injection suite, short", () => {
  let dir: string;
  let ctx: FaultContext;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-faults-it-"));
    const deviceEntry = await prepareDevices(dir);
    ctx = {
      startPlane: (vars = {}) => RestartablePlane.start({ script: testWorkerBundle, adminKey: ADMIN_KEY, vars, name: "propius-it-faults" }),
      deviceEntry, cacheDir: join(dir, "cache"), workDir: dir, seed: 5, log: () => undefined,
    };
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("kills the control plane 3 times during a job: no acknowledged update lost or counted twice, and the job finishes", async () => {
    const result = await killScenario(ctx, { kills: 3, devices: 3, rounds: 5, gapSeconds: [1, 2] });
    const context = result.detail.join("\n");
    expect(result.figures.kills, context).toHaveLength(3);
    expect(result.figures.finalState, context).toBe("done");
    expect(result.tally, context).toMatchObject({ lost: 0, doubled: 0, unexplained: [] });
    expect(result.tally!.acknowledged, context).toBeGreaterThan(0);
    expect(result.passed, context).toBe(true);
  });

  it("keeps the control plane down 15 s: every Node device sees the outage, none exits, and each has an update accepted after it", async () => {
    const result = await outageScenario(ctx, { outagesSeconds: [15], nodeDevices: 2, browser: false });
    const context = result.detail.join("\n");
    const [outage] = result.figures.outages as { sawOutage: Record<string, boolean>; recovery: Record<string, number | null> }[];
    expect(Object.values(outage.sawOutage), context).toEqual([true, true]);
    expect(Object.values(outage.recovery).every((s) => s !== null && s < 60), context).toBe(true);
    expect(result.tally, context).toMatchObject({ lost: 0, doubled: 0 });
    expect(result.passed, context).toBe(true);
  });
});
