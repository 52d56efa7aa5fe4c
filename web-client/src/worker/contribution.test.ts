import { describe, expect, it } from "vitest";
import { tabAttributes } from "./contribution.js";

describe("tabAttributes", () => {
  it("reports the platform, the chosen backend and what the browser tells, leaving out what it does not", () => {
    const capabilities = { webgpuAdapter: null, webgl2: true, wasmSimd: true, wasmThreads: false, crossOriginIsolated: false, cores: 4, memoryGb: null };
    expect(tabAttributes("wasm", capabilities)).toEqual({ platform: "browser", backend: "wasm", cores: 4, webgpu: false });
    expect(tabAttributes("webgpu", { ...capabilities, webgpuAdapter: "google swiftshader", memoryGb: 8 })).toMatchObject({ memory_gb: 8, webgpu: true });
  });
});
