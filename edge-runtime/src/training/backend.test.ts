import * as tf from "./tf.js";
import { describe, expect, it } from "vitest";
import { BackendRegistry, initTraining } from "./backend.js";

/** The pure-JS backend's setup, as the default registry has it: importing the package registers it. */
const cpuSetup = async () => void (await import("@tensorflow/tfjs-backend-cpu"));

describe("BackendRegistry", () => {
  it("lists backends by priority", () => {
    const registry = new BackendRegistry();
    registry.register("cpu", 1, cpuSetup);
    registry.register("fancy", 5, async () => {});
    expect(registry.names()).toEqual(["fancy", "cpu"]);
  });

  it("falls back when a backend's setup throws", async () => {
    const registry = new BackendRegistry();
    let attempts = 0;
    registry.register("broken", 10, async () => {
      attempts += 1;
      throw new Error("no such hardware");
    });
    registry.register("cpu", 1, cpuSetup);
    expect(await registry.init()).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(attempts).toBe(1);
  });

  it("falls back when tfjs cannot initialise the backend", async () => {
    const registry = new BackendRegistry();
    registry.register("not-a-tfjs-backend", 10, async () => {});
    registry.register("cpu", 1, cpuSetup);
    expect(await registry.init()).toBe("cpu");
  });

  it("rejects unknown preferred names and when nothing works", async () => {
    const registry = new BackendRegistry();
    registry.register("broken", 1, async () => {
      throw new Error("nope");
    });
    await expect(registry.init({ prefer: ["webgpu"] })).rejects.toThrow(/unknown training backend/);
    await expect(registry.init()).rejects.toBeInstanceOf(AggregateError);
  });
});

describe("initTraining", () => {
  it("chooses wasm in Node, single-threaded, and is cheap to call again", async () => {
    expect(await initTraining()).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
    expect(tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT")).toBe(false);
    expect(initTraining()).toBe(initTraining());
    expect(await initTraining()).toBe("wasm");
  });

  it("tries preferred backends first", async () => {
    expect(await initTraining({ prefer: ["cpu"] })).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    expect(await initTraining()).toBe("wasm");
    expect(tf.getBackend()).toBe("wasm");
  });
});
