import * as tf from "./tf.js";
import { describe, expect, it } from "vitest";
import { BackendRegistry, trainingBackends } from "./backend.js";
import { benchmarkActiveBackend, probeBackends } from "./probe.js";

describe("probeBackends", () => {
  it("measures wasm and cpu in Node, activates the faster, and leaks no tensors", async () => {
    const result = await probeBackends({ steps: 3 });
    expect(result.probes.map((p) => p.name)).toEqual(["wasm", "cpu"]);
    expect(result.probes.every((p) => p.ok && p.samplesPerSecond! > 0)).toBe(true);
    const fastest = [...result.probes].sort((a, b) => b.samplesPerSecond! - a.samplesPerSecond!)[0];
    expect(result.chosen).toBe(fastest.name);
    expect(tf.getBackend()).toBe(result.chosen);
    const small = { steps: 1, inputs: 8, hidden: 4, classes: 3 };
    await benchmarkActiveBackend(small); // tfjs-layers caches a few scalars on first use
    const before = tf.memory().numTensors;
    await benchmarkActiveBackend(small);
    await benchmarkActiveBackend(small);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reports a backend that fails or hangs and falls back to one that works", async () => {
    const registry = new BackendRegistry();
    registry.register("broken", 9, async () => {
      throw new Error("no adapter");
    });
    registry.register("hanging", 8, () => new Promise<void>(() => {}));
    registry.register("cpu", 1, async () => void (await import("@tensorflow/tfjs-backend-cpu")));
    const result = await probeBackends({ steps: 1, inputs: 8, hidden: 4, classes: 3, timeoutMs: 300 }, registry);
    expect(result.chosen).toBe("cpu");
    expect(result.probes.map((p) => [p.name, p.ok])).toEqual([["broken", false], ["hanging", false], ["cpu", true]]);
    expect(result.probes[0].error).toBe("no adapter");
    expect(result.probes[1].error).toMatch(/longer than 300 ms/);
    // The default registry's choice is untouched by another registry's probe.
    expect(trainingBackends.names()).toContain("wasm");
  });

  it("says which backends it tried when none works", async () => {
    const registry = new BackendRegistry();
    registry.register("broken", 1, async () => {
      throw new Error("nope");
    });
    await expect(probeBackends({ steps: 1 }, registry)).rejects.toThrow(/no training backend works \(probed broken\)/);
  });
});
