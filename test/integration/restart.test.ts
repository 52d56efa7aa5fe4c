import { describe, expect, it } from "vitest";
import { DeviceClient } from "@propius/edge-runtime";
import { PropiusError, type JobSpecInput, type Task } from "@propius/shared";
import { linearModel } from "@propius/edge-runtime/demo";
import { controlPlaneForSuite } from "./helpers.js";

const model = linearModel(2, 3);
const { weightSpecs } = model;
const spec: JobSpecInput = {
  name: "restart",
  model,
  plan: { rounds: 2, clientsPerRound: 3, overCommit: 1, roundDeadlineSeconds: 600, localEpochs: 1 },
};
const base = Float32Array.from([0, 1, 2, 3, 4, 5]);
const deltas = [Float32Array.from([1, 1, 1, 1, 1, 1]), Float32Array.from([2, 0, 2, 0, 2, 0]), Float32Array.from([-3, 3, -3, 3, -3, 3])];
const examples = [10, 30, 60];

async function taskFor(device: DeviceClient): Promise<Task> {
  const reply = await device.checkIn({});
  if (reply.status !== "task") throw new Error(`expected a task, got ${JSON.stringify(reply)}`);
  return reply.task;
}

async function errorCode(pending: Promise<unknown>): Promise<string> {
  try {
    await pending;
  } catch (error) {
    if (error instanceof PropiusError) return error.code;
    throw error;
  }
  return "no error";
}

describe("a control plane killed in the middle of a round", () => {
  const suite = controlPlaneForSuite();

  it("resumes from its last acknowledged state, losing no update and counting none twice", async () => {
    const { plane, owner } = suite;
    const job = await owner.setInitialModel(await owner.createJob(spec), spec, base);
    const devices = [0, 1, 2].map(() => new DeviceClient({ baseUrl: plane.url, attempts: 1 }));
    for (const device of devices) await device.register({});
    const tasks = await Promise.all(devices.map(taskFor));
    expect(new Set(tasks.map((t) => t.jobId))).toEqual(new Set([job.id]));
    for (const i of [0, 1]) {
      await devices[i].downloadModel(tasks[i]);
      const receipt = await devices[i].uploadUpdate(tasks[i], deltas[i], { examples: examples[i] });
      expect(receipt.reported).toBe(i + 1);
    }

    await plane.kill();
    await plane.restart();

    const resumed = await owner.status(job.id);
    expect(resumed.state).toBe("running");
    expect(resumed.rounds).toHaveLength(1);
    expect(resumed.rounds[0]).toMatchObject({ round: 1, status: "open", bound: 3, reported: 2, examples: 40 });

    expect(await errorCode(devices[0].uploadUpdate(tasks[0], deltas[0], { examples: examples[0] }))).toBe("ticket_used");
    const last = await devices[2].uploadUpdate(tasks[2], deltas[2], { examples: examples[2] });
    expect(last).toMatchObject({ reported: 3, demand: 3 });

    const closed = await waitFor(() => owner.status(job.id), (s) => s.currentRound === 2);
    expect(closed.rounds[0]).toMatchObject({ round: 1, attempt: 0, status: "closed", reported: 3, examples: 100 });
    const weights = await owner.weights(job.id);
    const expected = base.map((b, j) => b + (deltas[0][j] * 10 + deltas[1][j] * 30 + deltas[2][j] * 60) / 100);
    expect(Array.from(weights)).toEqual(Array.from(expected.map((v) => Math.fround(v))).map((v) => expect.closeTo(v, 5)));

    const next = await taskFor(devices[0]);
    expect(next).toMatchObject({ jobId: job.id, round: 2, modelHash: closed.modelHash });
  });
});

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}
