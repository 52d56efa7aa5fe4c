import { describe, expect, it } from "vitest";
import { demoModel } from "../demo/model.js";
import { exportOnnx } from "./export-onnx.js";
import { createOnnxSession } from "./onnx-session.js";

describe("createOnnxSession", () => {
  it("loads the wasm runtime from the installed package in Node, and keeps the first session's settings", async () => {
    const { topology, weightSpecs, initialWeights } = demoModel();
    const bytes = exportOnnx({ topology, weightSpecs }, initialWeights);
    const first = await createOnnxSession(bytes);
    const second = await createOnnxSession(bytes, { numThreads: 1 });
    expect(second.sampleShape).toEqual([784]);
    await expect(createOnnxSession(bytes, { numThreads: 2 })).rejects.toThrow(/already set up with .*"numThreads":1/);
    await expect(createOnnxSession(bytes, { wasmPaths: "/assets/" })).rejects.toThrow(/cannot change to .*\/assets\//);
    await Promise.all([first.release(), second.release()]);
  });

  it("refuses bytes that are not an ONNX model", async () => {
    await expect(createOnnxSession(new TextEncoder().encode("not a model"))).rejects.toThrow();
  });
});
