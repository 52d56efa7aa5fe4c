import { readdir, readFile } from "node:fs/promises";
import { PropiusError, type TensorSpec } from "@propius/shared";
import { describe, expect, it } from "vitest";
import { demoModel } from "../demo/model.js";
import { exportOnnx, type ExportableModel } from "./export-onnx.js";

const dense = (name: string, units: number, extra: Record<string, unknown> = {}) => ({ class_name: "Dense", config: { name, units, activation: "linear", use_bias: true, ...extra } });
const sequential = (...layers: unknown[]) => ({ class_name: "Sequential", config: { name: "m", layers } });
const spec = (name: string, ...shape: number[]): TensorSpec => ({ name, shape, dtype: "float32" });

/** A Dense 4 -> 2 model with `extra` after it. */
function withLayer(extra: Record<string, unknown>): ExportableModel {
  return { topology: sequential(dense("d", 2, { batch_input_shape: [null, 4] }), extra), weightSpecs: [spec("d/kernel", 4, 2), spec("d/bias", 2)] };
}

function refusal(run: () => unknown): PropiusError {
  try {
    run();
  } catch (error) {
    if (error instanceof PropiusError) return error;
    throw error;
  }
  throw new Error("the export was not refused");
}

describe("exportOnnx", () => {
  it("writes an ONNX ModelProto that starts with IR version 8 and holds every weight as raw little-endian floats", () => {
    const { topology, weightSpecs, initialWeights } = demoModel();
    const bytes = exportOnnx({ topology, weightSpecs }, initialWeights);
    expect([...bytes.subarray(0, 2)]).toEqual([0x08, 0x08]); // field 1 (ir_version), varint 8
    expect(bytes.length).toBeGreaterThan(initialWeights.length * 4);
    expect(bytes.length).toBeLessThan(initialWeights.length * 4 + 2_000);
    const raw = new Uint8Array(initialWeights.buffer, initialWeights.byteOffset, 784 * 128 * 4); // the hidden kernel
    expect(Buffer.from(bytes).indexOf(Buffer.from(raw))).toBeGreaterThan(0);
  });

  it("takes the input shape from a leading InputLayer as from the first layer's batch_input_shape", () => {
    const weightSpecs = [spec("d/kernel", 4, 2), spec("d/bias", 2)];
    const weights = Float32Array.from({ length: 10 }, (_, i) => i);
    const inputLayer = { class_name: "InputLayer", config: { name: "in", batch_input_shape: [null, 4], dtype: "float32", sparse: false } };
    const withInputLayer = exportOnnx({ topology: sequential(inputLayer, dense("d", 2)), weightSpecs }, weights);
    expect(withInputLayer).toEqual(exportOnnx({ topology: sequential(dense("d", 2, { batch_input_shape: [null, 4] })), weightSpecs }, weights));
  });

  it("refuses a layer it cannot convert, naming the layer and its class", () => {
    const error = refusal(() => exportOnnx(withLayer({ class_name: "BatchNormalization", config: { name: "norm" } }), new Float32Array(10)));
    expect(error.code).toBe("unsupported_model");
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/layer 'norm' \(BatchNormalization\) is not supported.*Dense/);
    expect(error.details).toEqual({ layer: "norm", className: "BatchNormalization" });
  });

  it("refuses functional models, unsupported activations and paddings", () => {
    expect(refusal(() => exportOnnx({ topology: { class_name: "Model", config: {} }, weightSpecs: [spec("w", 1)] }, new Float32Array(1))).message).toMatch(/Sequential models only, not Model/);
    expect(refusal(() => exportOnnx(withLayer({ class_name: "Activation", config: { name: "act", activation: "elu" } }), new Float32Array(10))).message).toMatch(/'act' \(Activation\) uses the activation 'elu'/);
    const pool = { class_name: "MaxPooling2D", config: { name: "pool", pool_size: [2, 2], padding: "causal" } };
    const image = { topology: sequential({ class_name: "Flatten", config: { name: "f", batch_input_shape: [null, 4, 4, 1] } }, { ...pool, config: { ...pool.config, padding: "valid" } }), weightSpecs: [] };
    expect(refusal(() => exportOnnx(image, new Float32Array(0))).message).toMatch(/'pool' \(MaxPooling2D\) needs images \[height, width, channels\], its input has shape \[16\]/);
    const conv = { topology: sequential({ ...pool, config: { ...pool.config, batch_input_shape: [null, 4, 4, 1] } }), weightSpecs: [] };
    expect(refusal(() => exportOnnx(conv, new Float32Array(0))).message).toMatch(/'pool' \(MaxPooling2D\) has padding 'causal'/);
    const tooSmall = { topology: sequential({ ...pool, config: { ...pool.config, padding: "valid", pool_size: [5, 2], batch_input_shape: [null, 4, 4, 1] } }), weightSpecs: [] };
    expect(refusal(() => exportOnnx(tooSmall, new Float32Array(0))).message).toMatch(/window of 5 larger than its input of 4/);
    const noShape = { topology: sequential(dense("d", 2)), weightSpecs: [spec("d/kernel", 4, 2), spec("d/bias", 2)] };
    expect(refusal(() => exportOnnx(noShape, new Float32Array(10))).message).toMatch(/no batch_input_shape/);
  });

  it("refuses weights that do not match the layers", () => {
    const model = withLayer({ class_name: "Dropout", config: { name: "drop", rate: 0.5 } });
    expect(() => exportOnnx(model, new Float32Array(9))).toThrow(/expected 10 weight values, got 9/);
    expect(() => exportOnnx({ ...model, weightSpecs: [spec("d/kernel", 4, 2)] }, new Float32Array(8))).toThrow(/no 'd\/bias'/);
    expect(() => exportOnnx({ ...model, weightSpecs: [spec("d/kernel", 2, 4), spec("d/bias", 2)] }, new Float32Array(10))).toThrow(/shape \[2,4\], the layer needs \[4,2\]/);
    expect(() => exportOnnx({ ...model, weightSpecs: [...model.weightSpecs, spec("x/kernel", 3)] }, new Float32Array(13))).toThrow(/no layer uses the weight\(s\) x\/kernel/);
  });

  it("imports neither ONNX Runtime nor Node built-ins outside the session modules and tests", async () => {
    const dir = new URL(".", import.meta.url);
    const sources = (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    const imports = new Map<string, string[]>();
    for (const file of sources) {
      const text = await readFile(new URL(file, dir), "utf8");
      imports.set(file, [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]));
    }
    for (const [file, specifiers] of imports) {
      expect(specifiers.filter((s) => s.startsWith("node:") || ["fs", "path", "os"].includes(s)), file).toEqual([]);
      const session = file === "onnx-session.ts" || file === "evaluate-onnx.ts" || file === "index.ts";
      if (!session) expect(specifiers.filter((s) => s.startsWith("onnxruntime-web")), file).toEqual([]);
    }
    expect(imports.get("export-onnx.ts")).not.toContain("./onnx-session.js");
  });
});
