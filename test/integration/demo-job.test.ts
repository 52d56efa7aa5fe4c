import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OwnerClient } from "@propius/edge-runtime";
import { demoModel, demoTestSet } from "@propius/edge-runtime/demo";
import { evaluate, initTraining } from "@propius/edge-runtime/training";
import { createDemoJob, followJob } from "../../scripts/lib/demo-job.js";
import { startDemoClients, stopAll } from "../../scripts/lib/demo-clients.js";
import { TestControlPlane, prepareDevices } from "./helpers.js";

describe("the demo job under wrangler dev with real Node devices", () => {
  let plane: TestControlPlane;
  let owner: OwnerClient;
  let devicesDir: string;
  let entry: string;
  const lines: string[] = [];
  beforeAll(async () => {
    devicesDir = await mkdtemp(join(tmpdir(), "propius-devices-"));
    const ready = prepareDevices(devicesDir);
    plane = await TestControlPlane.start();
    owner = await plane.owner();
    entry = await ready;
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(devicesDir, { recursive: true, force: true });
  });

  it("completes 2 rounds with 3 devices in 2 processes and raises test accuracy", async () => {
    const job = await createDemoJob(owner, { rounds: 2, clients: 3 });
    const devices = startDemoClients({ url: plane.url, count: 3, processes: 2, seed: 7, stateDir: devicesDir, cacheDir: join(devicesDir, "cache"), entry, onLine: (i, line) => lines.push(`[${i}] ${line}`) });
    try {
      const accuracies: number[] = [];
      const final = await followJob(owner, job.id, ({ testAccuracy }) => accuracies.push(testAccuracy));
      expect(final.state, lines.join("\n")).toBe("done");
      expect(final.rounds.filter((r) => r.status === "closed").map((r) => [r.round, r.reported])).toEqual([[1, 3], [2, 3]]);
      expect(final.rounds.every((r) => r.testAccuracy !== null && r.bytesIn > 0)).toBe(true);
      // The demo job has a private constraint: each device checked it on its own data and accepted the offer.
      expect(lines.filter((line) => line.includes(`accepted ${job.id}`)).length).toBeGreaterThanOrEqual(3);

      await initTraining({ prefer: ["wasm"] });
      const model = demoModel();
      const initial = await evaluate({ model, weights: model.initialWeights, data: await demoTestSet() });
      expect(accuracies).toHaveLength(2);
      expect(accuracies[1]).toBeGreaterThan(initial.accuracy + 0.2);
    } finally {
      await stopAll(devices);
    }
  });
});
