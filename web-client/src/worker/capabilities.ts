import type { Capabilities } from "../contract.js";

/** The parts of WebGPU this probe touches (not every TypeScript DOM library declares them). */
interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> };
  deviceMemory?: number;
}

/** A minimal module using one SIMD instruction (i8x16.splat): valid only where wasm SIMD is supported. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

/** Describes the WebGPU adapter the browser gives, or null when there is none. */
export async function webgpuAdapter(): Promise<string | null> {
  const gpu = (navigator as unknown as GpuNavigator).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return [info.vendor, info.architecture, info.description].filter(Boolean).join(" ") || "unnamed adapter";
  } catch {
    return null;
  }
}

/** Whether this worker can make a WebGL2 context (through OffscreenCanvas). */
export function webgl2(): boolean {
  try {
    return typeof OffscreenCanvas !== "undefined" && new OffscreenCanvas(1, 1).getContext("webgl2") !== null;
  } catch {
    return false;
  }
}

/** What this browser offers for training, seen from the worker that trains. */
export async function probeCapabilities(): Promise<Capabilities> {
  const nav = navigator as unknown as GpuNavigator & Navigator;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return {
    webgpuAdapter: await webgpuAdapter(),
    webgl2: webgl2(),
    wasmSimd: WebAssembly.validate(SIMD_PROBE),
    wasmThreads: isolated && typeof SharedArrayBuffer !== "undefined",
    crossOriginIsolated: isolated,
    cores: nav.hardwareConcurrency ?? null,
    memoryGb: nav.deviceMemory ?? null,
  };
}
