import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getKernel, registerKernel, unregisterKernel } from "@tensorflow/tfjs-core";
import type { OwnerClient } from "@propius/edge-runtime";
import { demoShard, loadDigits, useDigitsCache } from "@propius/edge-runtime/demo";
import { FixedExamples, initTraining } from "@propius/edge-runtime/training";
import { fileDigitsCache, runDevice } from "@propius/node-client";
import type { JobStatus } from "@propius/shared";
import { createDemoJob } from "../../scripts/lib/demo-job.js";
import { startDemoClients, stopAll } from "../../scripts/lib/demo-clients.js";
import { buildDeviceBundle } from "../../scripts/lib/bundles.js";
import { TEST_BUILD_DIR, TestControlPlane } from "./helpers.js";

const [SHARDS, SEED] = [4, 7];

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 120_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A device whose training backend lacks a kernel its task needs reports the failure instead of
 * exiting: the job frees its slot at once for another device, lists the failure in the round's
 * record, and closes the round with the others.
 */
describe("a device that cannot do its task, under wrangler dev", () => {
  let plane: TestControlPlane;
  let owner: OwnerClient;
  let dir: string;
  let entry: string;
  const lines: string[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "propius-failure-"));
    useDigitsCache(fileDigitsCache(join(dir, "cache")));
    const ready = Promise.all([loadDigits(), buildDeviceBundle(TEST_BUILD_DIR), initTraining({ prefer: ["wasm"] })]);
    ready.catch(() => undefined);
    plane = await TestControlPlane.start({ SCHEDULER_VIEW_TTL_MS: "0" });
    owner = await plane.owner();
    [, entry] = await ready;
  });
  afterAll(async () => {
    await plane?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  /** One Node device in this process, on demo shard `shard`; resolves `onLine` matches as they come. */
  async function inProcessDevice(shard: number, signal: AbortSignal, onLine: (line: string) => void) {
    const data = await demoShard({ index: shard, shards: SHARDS, seed: SEED });
    return runDevice({
      url: plane.url, stateDir: join(dir, `device-${shard}`), examples: new FixedExamples(data, "the demo digits", `demo shard ${shard}`), signal,
      log: (line) => (lines.push(`[${shard}] ${line}`), onLine(line)),
    }).catch((error: unknown) => {
      if (!signal.aborted) throw error;
    });
  }

  it("frees the slot within a second, records the failure by code, and the round closes with the other devices", async () => {
    const job = await createDemoJob(owner, { rounds: 1, clients: 3, minExamples: 0, federatedEvaluation: false });
    const round = async () => (await owner.status(job.id)).rounds[0];
    const others = startDemoClients({ url: plane.url, count: 2, shards: SHARDS, processes: 1, seed: SEED, stateDir: join(dir, "others"), cacheDir: join(dir, "cache"), entry, onLine: (i, line) => lines.push(`[${i}] ${line}`) });
    try {
      // Two of the three slots are held by the other devices (the round waits for a third report).
      await until(round, (r) => r.bound >= 2, "two devices to be bound");

      // The third device's backend lacks the kernel the model's relu needs.
      const relu = getKernel("Relu", "wasm")!;
      unregisterKernel("Relu", "wasm");
      const failing = new AbortController();
      let failedAt = 0;
      const first = inProcessDevice(2, failing.signal, (line) => {
        if (line.startsWith("could not do the task") && !failedAt) (failedAt = Date.now()), failing.abort();
      });
      await until(async () => failedAt, (at) => at > 0, "the device to report its failure");
      await first;
      registerKernel(relu);

      // Its slot is free at once: a fourth device is bound straight away.
      const fourth = new AbortController();
      let boundAt = 0;
      const last = inProcessDevice(3, fourth.signal, (line) => {
        if (line.startsWith("task: job") && !boundAt) boundAt = Date.now();
      });
      const closed = await until(() => owner.status(job.id), (s: JobStatus) => s.state === "done", "the round to close", 300_000);
      fourth.abort();
      await last;
      const context = lines.join("\n");
      console.log(`a fourth device was bound ${boundAt - failedAt} ms after the failure was reported`);
      expect(boundAt - failedAt, context).toBeLessThan(1_000);
      expect(closed.rounds.map((r) => [r.round, r.status, r.reported, r.failed])).toEqual([[1, "closed", 3, { missing_kernel: 1 }]]);
      expect(lines.some((l) => l.includes("could not do the task (missing_kernel: Kernel 'Relu' not registered for backend 'wasm')")), context).toBe(true);
    } finally {
      await stopAll(others);
    }
  });
});
