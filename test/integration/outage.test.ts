import { describe, expect, it } from "vitest";
import { DeviceClient, jitteredBackoff, rideOutOutages, runTaskLoop, type LoopEvent, type OutageEvent } from "@propius/edge-runtime";
import { parameterCount, type JobSpecInput } from "@propius/shared";
import { linearModel } from "@propius/edge-runtime/demo";
import { controlPlaneForSuite } from "./helpers.js";

const model = linearModel(2, 2);
const spec: JobSpecInput = { name: "outage", model, plan: { rounds: 2, clientsPerRound: 1, overCommit: 1, roundDeadlineSeconds: 600, localEpochs: 1 } };

describe("a device while its control plane is down", () => {
  const suite = controlPlaneForSuite();

  it("keeps checking in with jittered back-off instead of exiting, and does the job's rounds once it is back", async () => {
    const { plane, owner } = suite;
    const job = await owner.createJob(spec);
    const device = new DeviceClient({ baseUrl: plane.url, attempts: 1 });
    await device.register({});
    const events: LoopEvent[] = [];
    await plane.kill();
    const loop = runTaskLoop({
      client: device,
      trainer: async (_task, weights) => ({ delta: new Float32Array(weights.length).fill(0.5), examples: 4, trainLoss: 1 }),
      maxTasks: 2,
      pingIntervalMs: 0,
      backoff: jitteredBackoff({ baseMs: 200, capMs: 1_000 }),
      onEvent: (event) => events.push(event),
    });
    // Down for more than the 15 s after which a device used to exit.
    await new Promise((resolve) => setTimeout(resolve, 16_000));
    const outages = events.filter((e) => e.type === "outage");
    expect(outages.length).toBeGreaterThan(5);
    expect(outages.every((e) => e.type === "outage" && e.retryInMs <= 1_000 && e.message.includes(plane.url))).toBe(true);
    await plane.restart();
    await owner.setInitialModel(job, spec, new Float32Array(parameterCount(model.weightSpecs)));
    expect(await loop).toEqual({ tasks: 2 });
    expect((await owner.status(job.id)).state).toBe("done");
    expect(events.at(-1)).toMatchObject({ type: "stopped", reason: "max_tasks" });
  });

  it("enrols a device started while the control plane is down once it is back, instead of exiting", async () => {
    const { plane } = suite;
    await plane.kill();
    const device = new DeviceClient({ baseUrl: plane.url, attempts: 1 });
    const outages: OutageEvent[] = [];
    const enrolled = rideOutOutages(() => device.register({}), { backoff: jitteredBackoff({ baseMs: 200, capMs: 1_000 }), onOutage: (event) => outages.push(event) });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(outages.length).toBeGreaterThan(1);
    await plane.restart();
    expect((await enrolled).clientId).toMatch(/\S/);
    expect((await device.checkIn({})).status).toMatch(/wait|task|offer/);
  });
});
